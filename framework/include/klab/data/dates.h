// klab/data/dates.h — the one implementation of calendar dates in klab: parsing what users type (the
// YAML loader, every tool's --date/--from/--to/--start/--end, the HTTP service), ISO day
// arithmetic. A date is a real calendar day written YYYY-MM-DD (also accepted: YYYYMMDD and
// YYYY/MM/DD, as exports write them); "yesterday", 2021-13-45 or 2021-02-30 are refused.
#pragma once

#include <algorithm>
#include <cstdio>
#include <string>

#include "klab/error.h"

namespace klab {

// "2020-12-31", "20201231" or "2020/12/31" -> "2020-12-31" if it is a real calendar date, else "".
inline std::string normalize_date(const std::string& text);

// normalize_date, or ConfigError "<what>: expected a date YYYY-MM-DD, got "<text>"" (what names
// the flag, key or field). An empty text gives "" when allow_empty.
inline std::string require_date(const std::string& text, const std::string& what, bool allow_empty = true);

// Throws ConfigError "<from_what> (<from>) is after <to_what> (<to>)" when both are set and from > to.
inline void require_ordered(const std::string& from, const std::string& to, const std::string& from_what,
                     const std::string& to_what);

// Days since 1970-01-01 of an ISO date, and back.
inline long days_from_iso(const std::string& iso);
inline std::string iso_from_days(long days);

// ---- implementation: header-only, so a data-source plugin needs the SDK alone ----

inline std::string normalize_date(const std::string& text) {
  std::string digits;
  if (text.size() == 8) {
    digits = text;
  } else if (text.size() == 10 && (text[4] == '-' || text[4] == '/') && text[7] == text[4]) {
    digits = text.substr(0, 4) + text.substr(5, 2) + text.substr(8, 2);
  } else {
    return "";
  }
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return "";
  int y = std::stoi(digits.substr(0, 4)), m = std::stoi(digits.substr(4, 2)), d = std::stoi(digits.substr(6, 2));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (y < 1900 || y > 2200 || m < 1 || m > 12 || d < 1) return "";
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  int days = kDays[m - 1] + (m == 2 && leap ? 1 : 0);
  if (d > days) return "";
  return digits.substr(0, 4) + "-" + digits.substr(4, 2) + "-" + digits.substr(6, 2);
}

inline std::string require_date(const std::string& text, const std::string& what, bool allow_empty) {
  if (text.empty() && allow_empty) return "";
  const std::string iso = normalize_date(text);
  if (iso.empty()) throw ConfigError(what + ": expected a date YYYY-MM-DD, got \"" + text + "\"");
  return iso;
}

inline void require_ordered(const std::string& from, const std::string& to, const std::string& from_what,
                     const std::string& to_what) {
  if (!from.empty() && !to.empty() && from > to) {
    throw ConfigError(from_what + " (" + from + ") is after " + to_what + " (" + to + ")");
  }
}

inline long days_from_iso(const std::string& iso) {
  // Howard Hinnant's days_from_civil.
  int y = std::stoi(iso.substr(0, 4));
  const unsigned m = static_cast<unsigned>(std::stoi(iso.substr(5, 2)));
  const unsigned d = static_cast<unsigned>(std::stoi(iso.substr(8, 2)));
  y -= m <= 2;
  const long era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<long>(doe) - 719468;
}

inline std::string iso_from_days(long days) {
  // Howard Hinnant's civil_from_days.
  const long z = days + 719468, era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long y = static_cast<long>(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
  y += m <= 2;
  char buf[48];  // room for any long year, as the compiler checks
  std::snprintf(buf, sizeof buf, "%04ld-%02u-%02u", y, m, d);
  return buf;
}

}  // namespace klab
