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
  std::string target_kind = "close";  // close: price `horizon` days ahead; return: close ratio - 1
  std::size_t horizon = 1;
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
};

struct SkippedSymbol {
  std::string symbol, reason;
};

// Per-feature affine scaling x' = (x - center) / scale, fitted on training rows.
struct Scaler {
  std::string kind = "zscore";
  std::vector<double> center, scale;
  double target_center = 0, target_scale = 1;  // the target (close or return), same kind
  // One row of features, scaled as the model sees it: training windows and predictions both.
  void scale_row(const double* in, float* out) const;
  double scale_target(double y) const { return (y - target_center) / target_scale; }
  double unscale_target(double y) const { return y * target_scale + target_center; }
  // The price a target value stands for: the close itself, or last_close * (1 + return).
  static double price_of_target(double y, const std::string& target_kind, double last_close) {
    return target_kind == "close" ? y : last_close * (1.0 + y);
  }
  // The price a scaled model output stands for.
  double price_from_output(double scaled, const std::string& target_kind, double last_close) const {
    return price_of_target(unscale_target(scaled), target_kind, last_close);
  }
  nlohmann::json to_json(const std::vector<std::string>& feature_names) const;
  static Scaler from_json(const nlohmann::json& j);  // throws DataError on a malformed file
};

struct SymbolSeries {
  std::string symbol;
  std::vector<std::string> dates;  // every row's trade date
  std::vector<float> features;     // scaled, row-major [rows x n_features]
  std::vector<double> close;       // adjusted close, for de-normalising and baselines
  std::vector<double> target;      // raw target of each row (NaN where there is none)
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
  std::string val_start() const { return val_start_; }      // first val target date
  std::string test_start() const { return test_start_; }    // first test target date

  // Copies the window's [seq_length x n_features] scaled inputs into `out`.
  void fill_window(const WindowRef& w, float* out) const;
  double scaled_target(const WindowRef& w) const;
  double raw_target(const WindowRef& w) const;
  const std::string& target_date(const WindowRef& w) const;
  double last_close(const WindowRef& w) const;  // adjusted close on the window's last row

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
};

}  // namespace klab
