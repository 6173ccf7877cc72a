// libFuzzer target: the CSV importer's reader (klab/data/kline_csv.h) on any bytes — the three
// export formats (邢不行, Tushare, AkShare), plain or gzip (bytes starting with gzip's magic are
// read as an archive, as a .csv.gz would be). It must either throw klab::Error (one clear message)
// or return rows that keep the reader's promises: every line counted once (read = accepted +
// rejected), and every accepted bar a real day with finite, positive prices, low <= open, close
// <= high, and finite non-negative volume and amount. Anything else aborts (a finding).
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "klab/data/dates.h"
#include "klab/data/kline_csv.h"
#include "klab/error.h"

namespace {

[[noreturn]] void finding(const std::string& what) {
  std::fprintf(stderr, "FINDING: %s\n", what.c_str());
  std::abort();
}

// The input as a file the reader opens by name, in memory: a memfd, reached through
// /proc/self/fd/N (gzopen reopens it). A file on disk made this target bound by system calls
// (220 s of system time to 58 s of user time in 12 minutes).
int g_memfd = -1;
const std::string& scratch_file() {
  static const std::string path = [] {
    g_memfd = ::memfd_create("klab_fuzz_kline", MFD_CLOEXEC);
    if (g_memfd < 0) finding("memfd_create failed");
    return "/proc/self/fd/" + std::to_string(g_memfd);
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string& path = scratch_file();
  if (::ftruncate(g_memfd, 0) != 0 || ::pwrite(g_memfd, data, size, 0) != static_cast<ssize_t>(size)) {
    finding("cannot write the input to the memfd");
  }
  klab::KlineFile file;
  try {
    file = klab::read_kline_csv(path, "600519");
  } catch (const klab::Error&) {
    return 0;  // refused with a message: fine
  }
  if (file.rows_read != file.rows.size() + file.rejected.size()) {
    finding("rows_read " + std::to_string(file.rows_read) + " != accepted " + std::to_string(file.rows.size()) +
            " + rejected " + std::to_string(file.rejected.size()));
  }
  for (const auto& row : file.rows) {
    const klab::Bar& b = row.bar;
    if (klab::normalize_date(b.trade_date) != b.trade_date || b.trade_date.size() != 10) finding("bad date " + b.trade_date);
    for (double p : {b.open, b.high, b.low, b.close}) {
      if (!std::isfinite(p) || p <= 0) finding("price " + std::to_string(p) + " on " + b.trade_date);
    }
    if (!(b.low <= b.open && b.open <= b.high && b.low <= b.close && b.close <= b.high)) finding("bar outside [low, high]");
    for (double v : {b.volume, b.amount}) {
      if (!std::isfinite(v) || v < 0) finding("volume/amount " + std::to_string(v) + " on " + b.trade_date);
    }
    if (!std::isnan(b.pre_close) && (!std::isfinite(b.pre_close) || b.pre_close < 0)) finding("pre_close " + std::to_string(b.pre_close));
    if (row.symbol.size() != 6) finding("symbol '" + row.symbol + "'");
  }
  return 0;
}
