// Reading CSV exports: formats, units, dates, and row-by-row rejections with line numbers.
#include "klab/data/kline_csv.h"

#include <cmath>
#include <cstdlib>
#include <cstring>

#include <gtest/gtest.h>

#include "klab/error.h"
#include "klab/symbols.h"
#include "test_support.h"

using klab::test::TempDir;
using klab::test::write_file;

namespace {

const char* kXbxHeader =
    "数据由邢不行整理\n"
    "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n";

std::string reason_at(const klab::KlineFile& f, std::size_t line) {
  for (const auto& r : f.rejected) {
    if (r.line == line) return r.reason;
  }
  return "";
}

}  // namespace

TEST(Symbols, EverySpellingNormalisesToSixDigits) {
  for (const char* s : {"600519", "sh600519", "SH600519", "600519.SH", "600519.sh", " 600519 ",
                        "600519.XSHG"}) {
    EXPECT_EQ(klab::normalize_symbol(s).value_or("?"), "600519") << s;
  }
  EXPECT_EQ(klab::normalize_symbol("sz000001").value_or("?"), "000001");
  EXPECT_FALSE(klab::normalize_symbol("60051"));
  EXPECT_FALSE(klab::normalize_symbol("600519.HK"));
  EXPECT_FALSE(klab::normalize_symbol("600519' OR '1'='1"));
  EXPECT_EQ(klab::exchange_of("600519"), "SH");
  EXPECT_EQ(klab::exchange_of("000001"), "SZ");
  EXPECT_EQ(klab::exchange_of("300750"), "SZ");
  EXPECT_EQ(klab::exchange_of("830799"), "BJ");
}

TEST(KlineCsv, DatesAreCheckedAgainstTheCalendar) {
  EXPECT_EQ(klab::normalize_date("2020-12-31"), "2020-12-31");
  EXPECT_EQ(klab::normalize_date("20201231"), "2020-12-31");
  EXPECT_EQ(klab::normalize_date("2020/02/29"), "2020-02-29");
  EXPECT_EQ(klab::normalize_date("2021-02-29"), "");
  EXPECT_EQ(klab::normalize_date("2020-13-01"), "");
  EXPECT_EQ(klab::normalize_date("yesterday"), "");
}

TEST(KlineCsv, BadRowsAreRejectedWithLineAndReasonWhileGoodRowsLand) {
  TempDir dir;
  write_file(dir / "sh600519.csv",
             std::string(kXbxHeader) +
                 "sh600519,贵州茅台,2020-12-30,1900,1950,1890,1933,1900,100,200,1,1\n"      // 3 ok
                 "sh600519,贵州茅台,2020-13-01,1900,1950,1890,1933,1900,100,200,1,1\n"      // 4
                 "sh600519,贵州茅台,2020-12-29,-1900,1950,1890,1933,1900,100,200,1,1\n"     // 5
                 "sh600519,贵州茅台,2020-12-28,1900,1850,1890,1860,1900,100,200,1,1\n"      // 6
                 "sh600519,贵州茅台,2020-12-30,1901,1950,1890,1933,1900,100,200,1,1\n"      // 7 dup
                 "sh600519,贵州茅台,2020-12-25,1900,1950,1890\n"                            // 8
                 "sh600519,贵州茅台,2020-12-24,abc,1950,1890,1933,1900,100,200,1,1\n"       // 9
                 "sh600519,贵州茅台,2020-12-31,1941,1998.98,1939,1998,1933,3886007,7682300728,1,1\n");
  auto f = klab::read_kline_csv(dir / "sh600519.csv");
  EXPECT_EQ(f.format, klab::KlineFormat::kXbx);
  EXPECT_EQ(f.rows_read, 8u);
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(f.rows[0].bar.trade_date, "2020-12-30");
  EXPECT_EQ(f.rows[1].bar.close, 1998.0);
  EXPECT_EQ(f.rows[1].symbol, "600519");
  EXPECT_EQ(f.rows[1].name, "贵州茅台");
  ASSERT_EQ(f.rejected.size(), 6u);
  EXPECT_EQ(reason_at(f, 4), "bad date '2020-13-01'");
  EXPECT_EQ(reason_at(f, 5), "non-positive price in '开盘价': -1900");
  EXPECT_EQ(reason_at(f, 6), "high 1850 < low 1890");
  EXPECT_EQ(reason_at(f, 7), "duplicate day 2020-12-30 for 600519 (first at line 3)");
  EXPECT_EQ(reason_at(f, 8), "missing column '收盘价' (6 of 12 fields)");
  EXPECT_EQ(reason_at(f, 9), "bad number in '开盘价': 'abc'");
  for (const auto& r : f.rejected) EXPECT_EQ(r.file, (dir / "sh600519.csv").string());
  // Rejections come in line order (duplicates are found after the others, when rows are sorted).
  for (std::size_t i = 1; i < f.rejected.size(); ++i) EXPECT_LT(f.rejected[i - 1].line, f.rejected[i].line);
}

TEST(KlineCsv, SplittingReusesFieldsAndKeepsQuotesAndTrimming) {
  using klab::kline_csv_detail::split_csv_line;
  std::vector<std::string> fields;
  split_csv_line("a, b ,c,d,e,f", fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"a", "b", "c", "d", "e", "f"}));
  // A shorter line after a longer one: no field of the previous line survives.
  split_csv_line("\"x, \"\"y\"\"\",\t z \r", fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"x, \"y\"", "z"}));
  split_csv_line("", fields);
  EXPECT_EQ(fields, (std::vector<std::string>{""}));
  split_csv_line(",,", fields);
  EXPECT_EQ(fields, (std::vector<std::string>{"", "", ""}));
  split_csv_line("\"open,\r\"", fields);  // a carriage return inside quotes is kept
  EXPECT_EQ(fields, (std::vector<std::string>{"open,\r"}));
  EXPECT_EQ(split_csv_line("  \"1\" ,2"), (std::vector<std::string>{"1", "2"}));
}

TEST(KlineCsv, NumbersAreReadExactlyAsStrtodReadsThem) {
  // parse_number takes a fast path; the reference here is strtod itself on the whole field.
  for (const std::string text :
       {"1933", "1998.98", "0.1", "7682300728", "3.0e5", "1E-3", "-12.5", "+1.5", "0x1p4", " 7", "1e-400",
        "2.2250738585072011e-308", "1.7976931348623157e308", "123456789012345678901234567890",
        "0.30000000000000004", "1e400", "inf", "nan", "1.5.2", "12abc", "", "-", ".", "1e", "--1"}) {
    char* end = nullptr;
    const double expected = std::strtod(text.c_str(), &end);
    const bool whole = !text.empty() && end == text.c_str() + text.size() && std::isfinite(expected);
    const auto got = klab::kline_csv_detail::parse_number(text);
    ASSERT_EQ(got.has_value(), whole) << "'" << text << "'";
    if (whole) {
      EXPECT_EQ(std::memcmp(&*got, &expected, sizeof expected), 0) << "'" << text << "'";
    }
  }
}

TEST(KlineCsv, MissingHeaderColumnFailsTheFileNamingTheColumn) {
  TempDir dir;
  write_file(dir / "x.csv", "ts_code,trade_date,open,high,low,close,vol,amount\n"
                            "600519.SH,20201231,1941,1998.98,1939,1998,38860.07,7682300.728\n");
  try {
    klab::read_kline_csv(dir / "x.csv");
    FAIL();
  } catch (const klab::DataError& e) {
    EXPECT_NE(std::string(e.what()).find("missing column 'pre_close'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("x.csv"), std::string::npos) << e.what();
  }
  write_file(dir / "y.csv", "date,price\n2020-01-01,1\n");
  EXPECT_THROW(klab::read_kline_csv(dir / "y.csv"), klab::DataError);
}

TEST(KlineCsv, TushareUnitsAndOrderAreNormalised) {
  TempDir dir;
  write_file(dir / "t.csv",
             "ts_code,trade_date,open,high,low,close,pre_close,change,pct_chg,vol,amount\n"
             "600519.SH,20201231,1941.0,1998.98,1939.0,1998.0,1933.0,65.0,3.36,38860.07,7682300.728\n"
             "600519.SH,20201230,1880.0,1940.0,1878.0,1933.0,1880.0,53.0,2.8,30000.5,5700000.0\n");
  auto f = klab::read_kline_csv(dir / "t.csv");
  EXPECT_EQ(f.format, klab::KlineFormat::kTushare);
  ASSERT_EQ(f.rows.size(), 2u);
  EXPECT_EQ(f.rows[0].bar.trade_date, "2020-12-30");  // oldest first
  const auto& last = f.rows[1].bar;
  EXPECT_EQ(last.trade_date, "2020-12-31");
  EXPECT_DOUBLE_EQ(last.volume, 3886007.0);      // lots -> shares
  EXPECT_DOUBLE_EQ(last.amount, 7682300728.0);   // thousand CNY -> CNY
  EXPECT_DOUBLE_EQ(last.pre_close, 1933.0);
}

// Found by fuzzing (tests/fuzz): a finite amount in thousands of CNY can overflow once in CNY.
TEST(KlineCsv, NumbersThatOverflowInTheirUnitsAreRejected) {
  TempDir dir;
  write_file(dir / "t.csv",
             "ts_code,trade_date,open,high,low,close,pre_close,vol,amount\n"
             "600519.SH,20201231,1941,1998.98,1939,1998,1933,38860.07,1e306\n"
             "600519.SH,20201230,1880.0,1940.0,1878.0,1933.0,1880.0,30000.5,5700000.0\n");
  auto f = klab::read_kline_csv(dir / "t.csv");
  ASSERT_EQ(f.rows.size(), 1u);
  ASSERT_EQ(f.rejected.size(), 1u);
  EXPECT_EQ(f.rejected[0].line, 2u);
  EXPECT_EQ(f.rejected[0].reason, "number out of range in 'amount': '1e306'");
}

TEST(KlineCsv, AkshareWithBomAndNoSymbolColumnUsesTheFileName) {
  TempDir dir;
  write_file(dir / "600519.csv",
             "\xEF\xBB\xBF日期,开盘,收盘,最高,最低,成交量,成交额,振幅,涨跌幅,涨跌额,换手率\n"
             "2020-12-31,1941.0,1998.0,1998.98,1939.0,38860,7682300728.0,3.05,3.36,65.0,0.31\n");
  auto f = klab::read_kline_csv(dir / "600519.csv");
  EXPECT_EQ(f.format, klab::KlineFormat::kAkshare);
  EXPECT_FALSE(f.has_pre_close);
  ASSERT_EQ(f.rows.size(), 1u);
  EXPECT_EQ(f.rows[0].symbol, "600519");
  EXPECT_DOUBLE_EQ(f.rows[0].bar.volume, 3886000.0);
  EXPECT_DOUBLE_EQ(f.rows[0].bar.close, 1998.0);
}

TEST(KlineCsv, ArchiveNamesAndBadCapCells) {
  EXPECT_TRUE(klab::is_kline_file("x/sh600519.csv.gz"));
  EXPECT_TRUE(klab::is_kline_file("x/sh600519.csv"));
  EXPECT_FALSE(klab::is_kline_file("x/sh600519.gz"));
  EXPECT_FALSE(klab::is_kline_file("x/notes.txt"));
  EXPECT_EQ(klab::kline_file_stem("x/sh600519.csv.gz"), "sh600519");
  EXPECT_EQ(klab::kline_file_stem("x/600519.SH.csv"), "600519.SH");
  klab::test::TempDir dir;
  klab::test::write_file(dir / "sz000001.csv",
                         "数据由邢不行整理\n"
                         "股票代码,股票名称,交易日期,开盘价,最高价,最低价,收盘价,前收盘价,成交量,成交额,流通市值,总市值\n"
                         "sz000001,平安银行,2021-01-04,19.1,19.1,18.44,18.6,19.34,1,1,-3,1\n"
                         "sz000001,平安银行,2021-01-05,18.4,18.48,17.8,17.99,18.6,1,1,abc,1\n"
                         "sz000001,平安银行,2021-01-06,18.4,18.48,17.8,17.99,18.6,1,1,,\n");
  const auto parsed = klab::read_kline_csv(dir / "sz000001.csv");
  ASSERT_EQ(parsed.rejected.size(), 2u);
  EXPECT_EQ(parsed.rejected[0].reason, "bad number in '流通市值': '-3'");
  EXPECT_EQ(parsed.rejected[1].reason, "bad number in '流通市值': 'abc'");
  ASSERT_EQ(parsed.rows.size(), 1u);
  EXPECT_TRUE(std::isnan(parsed.rows[0].bar.total_market_cap));
}
