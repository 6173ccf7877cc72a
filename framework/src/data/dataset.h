// data/dataset.h — leakage-free training windows over one or many symbols.
//
// Each symbol's bars become a float feature matrix [rows x features] kept once in memory;
// a window is only a (symbol, end row) pair, cut on the fly into the caller's buffer, so memory
// grows with rows x features, not rows x seq_length x features. Windows are assigned to
// train / val / test by the date of their TARGET, chronologically, so no training target lies
// in the validation or test period. The scaler is fitted on training rows only (rows dated
// before the validation period) and saved with the run for prediction.
#pragma once

#include "klab/data/dates.h"

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/scaler.h"
#include "data/targets.h"
#include "data/universe.h"
#include "klab/data/adjust.h"
#include "klab/data_source.h"

namespace klab {

struct SplitSpec {
  // By ratio of the distinct target dates (chronological) ...
  double train = 0.7, val = 0.15, test = 0.15;
  // ... or by date: val_start / test_start (ISO) override the ratios when set.
  std::string val_start, test_start;
};

struct DatasetSpec {
  std::vector<std::string> symbols;
  std::string start_date, end_date;  // "" = open
  Adjustment adjustment = Adjustment::kBackward;  // causal: a row's prices use no later factor
  std::vector<std::string> features;  // validated names (data/features.h)
  std::size_t seq_length = 60;
  // close: the close `horizon` rows ahead; return: that close / today's - 1; next_return: buy at
  // the next close, sell `horizon` closes later (Qlib's label: close_{t+1+h} / close_{t+1} - 1).
  std::string target_kind = "close";
  std::size_t horizon = 1;
  // Per-date cross-sectional normalisation of the training label: none | cs_rank | cs_zscore.
  std::string target_normalize = "none";
  // Non-finite features after the warm-up (Alpha158's undefined R² of a constant window): false =
  // the windows holding them are left out; true = they become 0 after scaling (the training
  // median or mean), counted.
  bool fill_nan = false;
  // Rows from a window's last input row to its target row.
  std::size_t target_offset() const { return target_offset_of(target_kind, horizon); }
  static std::size_t target_offset_of(const std::string& kind, std::size_t horizon) {
    return horizon + (kind == "next_return" ? 1 : 0);
  }
  static bool is_price_target(const std::string& kind, const std::string& normalize) {
    return kind != "next_return" && normalize == "none";
  }
  // True when the model predicts a close price (close, return); false when it predicts a return
  // from a later entry or a cross-sectional score (evaluated as returns and ranks only).
  bool price_target() const { return is_price_target(target_kind, target_normalize); }
  SplitSpec split;
  std::string scaler = "zscore";      // zscore | robust | none
  int max_gap_days = 15;              // no window (inputs + target) spans a longer calendar gap
  // Several symbols (symbols: all, a list): one without bars in the range, or too few for one
  // window, is skipped with its reason instead of failing the run (a real database holds
  // delisted and not-yet-listed stocks); the build fails only when none is left.
  bool skip_short_symbols = false;
  // A point-in-time universe (data/universe.h): only windows whose stock was a member on their
  // last input day are kept. Inactive (top 0): every window of every symbol.
  UniverseRule universe;
  // Threads computing features (symbols in parallel; the result is the same for any number).
  std::size_t threads = 1;
};

struct SkippedSymbol {
  std::string symbol, reason;
};

struct SymbolSeries {
  std::string symbol;
  std::vector<std::string> dates;  // every row's trade date
  std::vector<float> features;     // scaled, row-major [rows x n_features]
  std::vector<double> raw_features;  // instead, unscaled, when features are window-relative (Alpha360)
  std::vector<double> close;       // adjusted close, for de-normalising and baselines
  std::vector<double> target;      // raw target of each row (NaN where there is none)
  std::vector<double> norm_target; // cross-sectionally normalised target (target.normalize), else empty
};

struct WindowRef {
  std::uint32_t series;
  std::uint32_t end_row;  // last input row; the target is row end_row + horizon
};

class Dataset {
 public:
  // Loads every symbol from `source`, computes features, cuts windows, fits the scaler on the
  // training rows and scales. Throws DataError naming the symbol when it has no bars or too
  // few rows for one window, and when a split ends up empty.
  static Dataset build(DataSource& source, const DatasetSpec& spec);

  const DatasetSpec& spec() const { return spec_; }
  std::size_t n_features() const { return spec_.features.size(); }
  const std::vector<SymbolSeries>& series() const { return series_; }
  const Scaler& scaler() const { return scaler_; }
  const std::vector<WindowRef>& train() const { return train_; }
  const std::vector<WindowRef>& val() const { return val_; }
  const std::vector<WindowRef>& test() const { return test_; }
  std::size_t raw_rows() const { return raw_rows_; }        // bars loaded
  std::size_t dropped_warmup_rows() const { return dropped_warmup_; }
  std::size_t skipped_gap_windows() const { return skipped_gap_windows_; }
  const std::vector<SkippedSymbol>& skipped_symbols() const { return skipped_symbols_; }
  // The universe the windows were chosen by (nullptr without a rule), and how many windows its
  // members' absence removed.
  const Universe* universe() const { return universe_.get(); }
  std::size_t outside_universe_windows() const { return outside_universe_windows_; }
  // Feature values filled with 0 (data.fill_nan) and the rows that held them; windows left out
  // because their normalised label is undefined (cs_zscore of a date with one stock).
  std::size_t filled_nan_values() const { return filled_nan_values_; }
  std::size_t filled_nan_rows() const { return filled_nan_rows_; }
  std::size_t undefined_label_windows() const { return undefined_label_windows_; }
  std::string val_start() const { return val_start_; }      // first val target date
  std::string test_start() const { return test_start_; }    // first test target date

  // Copies the window's [seq_length x n_features] scaled inputs into `out`.
  void fill_window(const WindowRef& w, float* out) const;
  double scaled_target(const WindowRef& w) const;
  double raw_target(const WindowRef& w) const;
  const std::string& target_date(const WindowRef& w) const;
  double last_close(const WindowRef& w) const;  // adjusted close on the window's last row
  double target_close(const WindowRef& w) const;  // adjusted close on the target row

  // Bytes held by feature matrices, closes, targets and window lists.
  std::size_t memory_bytes() const;

 private:
  DatasetSpec spec_;
  std::vector<SymbolSeries> series_;
  Scaler scaler_;
  std::vector<WindowRef> train_, val_, test_;
  std::size_t raw_rows_ = 0, dropped_warmup_ = 0, skipped_gap_windows_ = 0;
  std::string val_start_, test_start_;
  std::vector<SkippedSymbol> skipped_symbols_;
  std::shared_ptr<const Universe> universe_;
  std::size_t outside_universe_windows_ = 0;
  std::size_t filled_nan_values_ = 0, filled_nan_rows_ = 0, undefined_label_windows_ = 0;
};

}  // namespace klab
