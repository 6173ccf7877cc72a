// data/dates.h — the one implementation of calendar dates in klab: parsing what users type (the
// YAML loader, every tool's --date/--from/--to/--start/--end, the HTTP service), ISO day
// arithmetic. A date is a real calendar day written YYYY-MM-DD (also accepted: YYYYMMDD and
// YYYY/MM/DD, as exports write them); "yesterday", 2021-13-45 or 2021-02-30 are refused.
#pragma once

#include <string>

namespace klab {

// "2020-12-31", "20201231" or "2020/12/31" -> "2020-12-31" if it is a real calendar date, else "".
std::string normalize_date(const std::string& text);

// normalize_date, or ConfigError "<what>: expected a date YYYY-MM-DD, got "<text>"" (what names
// the flag, key or field). An empty text gives "" when allow_empty.
std::string require_date(const std::string& text, const std::string& what, bool allow_empty = true);

// Throws ConfigError "<from_what> (<from>) is after <to_what> (<to>)" when both are set and from > to.
void require_ordered(const std::string& from, const std::string& to, const std::string& from_what,
                     const std::string& to_what);

// Days since 1970-01-01 of an ISO date, and back.
long days_from_iso(const std::string& iso);
std::string iso_from_days(long days);

}  // namespace klab
