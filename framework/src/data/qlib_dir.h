// data/qlib_dir.h — reading a Qlib data directory (what Qlib's scripts/dump_bin.py writes) as
// daily bars in klab's units, so Qlib users bring their data with `import_kline DIR`.
//
//   calendars/day.txt            one trading day a line
//   instruments/all.txt          SYMBOL <tab> first day <tab> last day
//   features/<symbol>/<field>.day.bin   little-endian float32: the calendar index of the first
//                                value, then one value per calendar day (NaN: not traded)
//
// Qlib stores adjusted, normalised prices (raw x factor), volume / factor and a `factor` field.
// klab recovers what it stores: raw open/high/low/close = field / factor rounded to the 0.01
// tick; pre_close = the previous traded day's adjusted close / today's factor, rounded (the
// exchange's ex-rights previous close); volume = volume x factor rounded to whole shares;
// amount as stored. Days with a NaN price or factor, or zero volume (suspended), are dropped and
// counted; the first day of a symbol has no pre_close (0, unknown). No names, no market caps.
#pragma once

#include <filesystem>

#include "klab/data/kline_csv.h"

namespace klab {

// Whether `dir` looks like a Qlib data directory (calendars/day.txt and features/).
bool is_qlib_directory(const std::filesystem::path& dir);

// Every instrument of instruments/all.txt, as one KlineFile (format kQlib, rows sorted by symbol
// then date; rejected rows name the symbol and date). Throws DataError naming the file at fault
// for a missing calendar, a truncated .bin or an instrument without the required fields.
KlineFile read_qlib_directory(const std::filesystem::path& dir);

}  // namespace klab
