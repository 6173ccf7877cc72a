// sweep/walk_forward.h — the out-of-sample record of a walk-forward sweep (evaluation.rolling).
//
// Each segment of a (point, seed) group is a trial and a complete run of its own; once all of a
// group's segments have completed, their test predictions — disjoint, consecutive periods, each
// predicted by a model that saw nothing on or after its segment's test start — are concatenated
// and judged as one test period: IC and Rank IC per day, the TopkDropout backtest and the 5-day
// reversal beside them (workflow/evaluate_panel.h), written under the sweep record as
// walk_forward/wf-NNNN/ (sweep/record.h). docs/EVALUATION.md "Walk-forward".
#pragma once

#include <cstddef>
#include <filesystem>
#include <iosfwd>

namespace klab {

class PluginRegistry;

// Combines every group of `record` whose segments have all completed and that has no completed
// combined record yet (a group with a failed segment is marked failed, naming it). Returns how
// many were combined now. Does nothing for a sweep without evaluation.rolling.
std::size_t combine_walk_forward(const std::filesystem::path& record, PluginRegistry& registry, std::ostream* progress);

}  // namespace klab
