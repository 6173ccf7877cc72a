#include "data/qlib_dir.h"

#include <cmath>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <limits>
#include <sstream>

#include "klab/data/dates.h"
#include "klab/error.h"
#include "klab/symbols.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

// One field of one instrument on the calendar: NaN outside the stored range.
std::vector<float> read_field(const fs::path& file, std::size_t calendar_size) {
  std::ifstream in(file, std::ios::binary);
  if (!in) throw DataError(file.string() + ": cannot read");
  in.seekg(0, std::ios::end);
  const auto bytes = static_cast<std::size_t>(in.tellg());
  in.seekg(0);
  if (bytes < 4 || bytes % 4 != 0) throw DataError(file.string() + ": not a Qlib .bin file (" + std::to_string(bytes) + " bytes)");
  std::vector<float> raw(bytes / 4);
  in.read(reinterpret_cast<char*>(raw.data()), static_cast<std::streamsize>(bytes));
  static_assert(sizeof(float) == 4, "float32");
  const float first = raw[0];
  if (!(first >= 0) || first != std::floor(first) || static_cast<std::size_t>(first) + raw.size() - 1 > calendar_size) {
    throw DataError(file.string() + ": its start index " + std::to_string(first) + " and " +
                    std::to_string(raw.size() - 1) + " values do not fit the calendar of " + std::to_string(calendar_size) +
                    " days");
  }
  std::vector<float> out(calendar_size, std::numeric_limits<float>::quiet_NaN());
  std::memcpy(out.data() + static_cast<std::size_t>(first), raw.data() + 1, (raw.size() - 1) * sizeof(float));
  return out;
}

double tick(double price) { return std::round(price * 100.0) / 100.0; }

}  // namespace

bool is_qlib_directory(const fs::path& dir) {
  return fs::is_regular_file(dir / "calendars" / "day.txt") && fs::is_directory(dir / "features");
}

KlineFile read_qlib_directory(const fs::path& dir) {
  KlineFile out;
  out.path = dir.string();
  out.format = KlineFormat::kQlib;
  out.has_pre_close = true;
  const fs::path calendar_file = dir / "calendars" / "day.txt";
  std::ifstream cal(calendar_file);
  if (!cal) throw DataError(calendar_file.string() + ": cannot read");
  std::vector<std::string> calendar;
  std::size_t line_no = 0;
  for (std::string line; std::getline(cal, line);) {
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    const std::string iso = normalize_date(line.substr(0, 10));
    if (iso.empty()) throw DataError(calendar_file.string() + ":" + std::to_string(line_no) + ": bad date '" + line + "'");
    calendar.push_back(iso);
  }
  if (calendar.empty()) throw DataError(calendar_file.string() + ": no dates");

  const fs::path instruments = dir / "instruments" / "all.txt";
  std::ifstream ins(instruments);
  if (!ins) throw DataError(instruments.string() + ": cannot read");
  line_no = 0;
  for (std::string line; std::getline(ins, line);) {
    ++line_no;
    std::istringstream cells(line);
    std::string name;
    if (!(cells >> name)) continue;
    const auto code = normalize_symbol(name);
    if (!code) {
      out.rejected.push_back({instruments.string(), line_no, "not an A-share symbol: '" + name + "'"});
      continue;
    }
    // Qlib writes feature folders in lower case.
    std::string folder = name;
    for (auto& c : folder) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    const fs::path features = dir / "features" / folder;
    auto field = [&](const char* f) { return read_field(features / (std::string(f) + ".day.bin"), calendar.size()); };
    const auto open = field("open"), high = field("high"), low = field("low"), close = field("close");
    const auto volume = field("volume"), factor = field("factor"), amount = field("amount");
    double previous_adjusted_close = std::numeric_limits<double>::quiet_NaN();
    for (std::size_t d = 0; d < calendar.size(); ++d) {
      const double f = factor[d];
      const bool priced = std::isfinite(close[d]) && std::isfinite(open[d]) && std::isfinite(high[d]) &&
                          std::isfinite(low[d]) && std::isfinite(f) && f > 0;
      if (!priced && !std::isfinite(close[d])) continue;  // not traded (reindexed on the calendar)
      ++out.rows_read;
      auto reject = [&](const std::string& reason) {
        out.rejected.push_back({(features / "close.day.bin").string(), 0, *code + " " + calendar[d] + ": " + reason});
      };
      if (!priced) {
        reject("a price or the factor is NaN");
        continue;
      }
      if (!(volume[d] > 0)) {
        reject("zero volume (suspended)");
        continue;
      }
      KlineRow row;
      row.symbol = *code;
      row.bar.trade_date = calendar[d];
      row.bar.open = tick(open[d] / f);
      row.bar.high = tick(high[d] / f);
      row.bar.low = tick(low[d] / f);
      row.bar.close = tick(close[d] / f);
      // The exchange's previous close in today's share base: yesterday's adjusted close / today's factor.
      row.bar.pre_close = std::isfinite(previous_adjusted_close) ? tick(previous_adjusted_close / f) : 0.0;
      row.bar.volume = std::round(static_cast<double>(volume[d]) * f);
      row.bar.amount = std::isfinite(amount[d]) ? static_cast<double>(amount[d]) : 0.0;
      previous_adjusted_close = close[d];
      const Bar& b = row.bar;
      if (b.low <= 0 || b.high < b.low || b.open < b.low || b.open > b.high || b.close < b.low || b.close > b.high) {
        reject("prices out of order after removing the factor");
        continue;
      }
      out.rows.push_back(std::move(row));
    }
  }
  sort_by_symbol_date(out);  // all.txt need not list the instruments in order
  return out;
}

}  // namespace klab
