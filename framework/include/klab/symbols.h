// klab/symbols.h — A-share symbol codes: one spelling everywhere.
//
// Users and files write a stock as sh600519, SH600519, 600519.SH, 600519.XSHG or 600519; klab
// stores and compares the bare 6-digit code "600519" and derives the exchange from it.
#pragma once

#include <cctype>
#include <optional>
#include <string>

namespace klab {

// The 6-digit code of `text`, or nullopt if it is no A-share symbol in any known spelling.
inline std::optional<std::string> normalize_symbol(const std::string& text) {
  std::string s;
  for (char c : text) {
    if (!std::isspace(static_cast<unsigned char>(c))) s += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  auto strip_prefix = [&s](const char* prefix) {
    std::string p(prefix);
    if (s.size() > p.size() && s.compare(0, p.size(), p) == 0) s = s.substr(p.size());
  };
  for (const char* prefix : {"SH", "SZ", "BJ"}) strip_prefix(prefix);
  auto dot = s.find('.');
  if (dot != std::string::npos) {
    const std::string suffix = s.substr(dot + 1);
    if (suffix != "SH" && suffix != "SZ" && suffix != "BJ" && suffix != "XSHG" && suffix != "XSHE") {
      return std::nullopt;
    }
    s = s.substr(0, dot);
  }
  if (s.size() != 6) return std::nullopt;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return std::nullopt;
  }
  return s;
}

// "SH" for Shanghai (6xxxxx, 9xxxxx), "BJ" for Beijing (4xxxxx, 8xxxxx), else "SZ".
inline std::string exchange_of(const std::string& code) {
  if (code.empty()) return "";
  switch (code[0]) {
    case '6':
    case '9':
      return "SH";
    case '4':
    case '8':
      return "BJ";
    default:
      return "SZ";
  }
}

// The 6-digit code if `text` normalises, else `text` unchanged: data sources bind that to a
// prepared statement, so a malformed symbol simply matches no rows.
inline std::string symbol_or_verbatim(const std::string& text) {
  auto code = normalize_symbol(text);
  return code ? *code : text;
}

}  // namespace klab
