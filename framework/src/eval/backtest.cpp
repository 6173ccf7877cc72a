#include "eval/backtest.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "klab/data/price_limits.h"
#include "klab/error.h"
#include "klab/stats.h"

namespace klab {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kTradingDays = 238.0;  // Qlib's annualisation for China

// The bars of one stock, walked forward through the calendar.
class Cursor {
 public:
  explicit Cursor(const std::vector<Bar>* bars) : bars_(bars) {}
  // Moves to `date` (never backwards): afterwards at() is the last bar dated <= date.
  void advance(const std::string& date) {
    while (next_ < bars_->size() && (*bars_)[next_].trade_date <= date) ++next_;
  }
  const Bar* at() const { return next_ == 0 ? nullptr : &(*bars_)[next_ - 1]; }
  const Bar* before() const { return next_ < 2 ? nullptr : &(*bars_)[next_ - 2]; }
  const Bar* on(const std::string& date) const {
    const Bar* b = at();
    return b && b->trade_date == date ? b : nullptr;
  }
  const Bar& last() const { return bars_->back(); }

 private:
  const std::vector<Bar>* bars_;
  std::size_t next_ = 0;
};

struct Holding {
  double shares = 0;  // in the share base of `factor`
  double factor = 1;  // adj_factor the shares are counted at
  double price = 0;   // raw close last seen
};

double trade_cost(double amount, double rate, double minimum) { return std::max(amount * rate, minimum); }

// Ranked by score, best first; a stock without a score goes last; ties by symbol.
void rank(std::vector<std::string>& symbols, const std::map<std::string, double>& scores) {
  auto score = [&](const std::string& s) {
    auto it = scores.find(s);
    return it == scores.end() ? kNaN : it->second;
  };
  std::sort(symbols.begin(), symbols.end(), [&](const std::string& a, const std::string& b) {
    const double x = score(a), y = score(b);
    const bool nx = std::isnan(x), ny = std::isnan(y);
    if (nx != ny) return ny;
    if (!nx && x != y) return x > y;
    return a < b;
  });
}

}  // namespace

nlohmann::json BacktestOptions::to_json() const {
  return {{"topk", topk},         {"n_drop", n_drop},         {"initial_cash", initial_cash},
          {"risk_degree", risk_degree}, {"open_cost", open_cost}, {"close_cost", close_cost},
          {"min_cost", min_cost}, {"lot", lot},               {"delisted", delisted}};
}

BacktestOptions BacktestOptions::from_json(const nlohmann::json& j, const std::string& key) {
  BacktestOptions o;
  if (j.is_null()) return o;
  if (!j.is_object()) throw ConfigError(key + ": expected a mapping");
  static const std::set<std::string> known = {"topk", "n_drop", "initial_cash", "risk_degree", "open_cost",
                                              "close_cost", "min_cost", "lot", "delisted"};
  for (const auto& [name, value] : j.items()) {
    if (!known.count(name)) throw ConfigError(key + "." + name + ": unknown key");
    const bool text = name == "delisted";
    if (text ? !value.is_string() : !value.is_number()) {
      throw ConfigError(key + "." + name + ": expected " + (text ? "last_close or zero" : "a number"));
    }
  }
  auto count = [&](const char* name, std::size_t fallback, std::size_t low) {
    if (!j.contains(name)) return fallback;
    const double v = j[name].get<double>();
    if (v != std::floor(v) || v < static_cast<double>(low)) {
      throw ConfigError(key + "." + name + ": expected an integer >= " + std::to_string(low));
    }
    return static_cast<std::size_t>(v);
  };
  auto number = [&](const char* name, double fallback, double low, double high) {
    if (!j.contains(name)) return fallback;
    const double v = j[name].get<double>();
    if (!(v >= low && v <= high)) {
      throw ConfigError(key + "." + name + ": must be in [" + std::to_string(low) + ", " + std::to_string(high) + "]");
    }
    return v;
  };
  o.topk = count("topk", o.topk, 1);
  o.n_drop = count("n_drop", o.n_drop, 0);
  o.lot = count("lot", o.lot, 1);
  o.initial_cash = number("initial_cash", o.initial_cash, 1.0, 1e15);
  o.risk_degree = number("risk_degree", o.risk_degree, 0.0, 1.0);
  o.open_cost = number("open_cost", o.open_cost, 0.0, 0.1);
  o.close_cost = number("close_cost", o.close_cost, 0.0, 0.1);
  o.min_cost = number("min_cost", o.min_cost, 0.0, 1e6);
  if (j.contains("delisted")) {
    o.delisted = j["delisted"].get<std::string>();
    if (o.delisted != "last_close" && o.delisted != "zero") {
      throw ConfigError(key + ".delisted: expected last_close or zero, got \"" + o.delisted + "\"");
    }
  }
  return o;
}

BacktestResult run_backtest(const std::vector<Signal>& signals, const MarketBars& bars, const UniverseTest& universe,
                            const std::string& last_date, const std::string& data_end, const BacktestOptions& o) {
  std::map<std::string, std::map<std::string, double>> by_day;  // signal day -> symbol -> score
  for (const auto& s : signals) {
    if (std::isfinite(s.score)) by_day[s.date][s.symbol] = s.score;
  }
  if (by_day.empty()) throw DataError("backtest: no prediction with a finite score to trade on");
  const std::string first_day = by_day.begin()->first;
  std::set<std::string> calendar_set;
  for (const auto& [symbol, series] : bars) {
    for (const auto& b : series) {
      if (b.trade_date >= first_day && b.trade_date <= last_date) calendar_set.insert(b.trade_date);
    }
  }
  const std::vector<std::string> calendar(calendar_set.begin(), calendar_set.end());
  if (calendar.size() < 2) throw DataError("backtest: fewer than two trading days from the first signal day " + first_day);

  std::map<std::string, Cursor> cursors;
  for (const auto& [symbol, series] : bars) cursors.emplace(symbol, Cursor(&series));
  auto cursor = [&](const std::string& symbol) -> Cursor* {
    auto it = cursors.find(symbol);
    return it == cursors.end() ? nullptr : &it->second;
  };

  BacktestResult result;
  result.options = o;
  double cash = o.initial_cash, previous_value = o.initial_cash;
  std::map<std::string, Holding> holdings;
  for (auto& [symbol, c] : cursors) c.advance(calendar.front());
  for (std::size_t k = 1; k < calendar.size(); ++k) {
    const std::string& t = calendar[k - 1];  // the signal day
    const std::string& d = calendar[k];      // the trading day
    // The benchmark's members and weights as of t, before the cursors move to d.
    struct Member {
      const std::string* symbol;
      double close_adj, cap;
    };
    std::vector<Member> members;
    for (auto& [symbol, c] : cursors) {
      const Bar* b = c.at();
      if (b && universe(symbol, t)) members.push_back({&symbol, b->close * b->adj_factor, b->total_market_cap});
    }
    for (auto& [symbol, c] : cursors) c.advance(d);

    double day_cost = 0, traded = 0;
    // 1. Ex-rights: shares follow the factor, so a holding's value is continuous.
    for (auto& [symbol, h] : holdings) {
      if (const Bar* b = cursor(symbol)->on(d)) {
        h.shares *= b->adj_factor / h.factor;
        h.factor = b->adj_factor;
        h.price = b->close;
      }
    }
    // 2. Delisted: the stock's bars ended before the data does.
    for (auto it = holdings.begin(); it != holdings.end();) {
      const Bar& last = cursor(it->first)->last();
      if (last.trade_date < d && last.trade_date < data_end) {
        if (o.delisted == "last_close") {
          const double amount = it->second.shares * it->second.price;
          const double cost = trade_cost(amount, o.close_cost, o.min_cost);
          cash += amount - cost;
          day_cost += cost;
          traded += amount;
        }
        ++result.delisted_positions;
        it = holdings.erase(it);
      } else {
        ++it;
      }
    }
    // 3. TopkDropout on the scores of t, traded at d's close.
    auto scored = by_day.find(t);
    if (scored != by_day.end()) {
      const auto& scores = scored->second;
      std::vector<std::string> last;
      for (const auto& [symbol, h] : holdings) last.push_back(symbol);
      rank(last, scores);
      std::vector<std::string> candidates;
      for (const auto& [symbol, score] : scores) {
        if (!holdings.count(symbol)) candidates.push_back(symbol);
      }
      rank(candidates, scores);
      const long want_new = static_cast<long>(o.n_drop + o.topk) - static_cast<long>(last.size());
      std::vector<std::string> today(candidates.begin(),
                                     candidates.begin() + std::clamp<long>(want_new, 0, static_cast<long>(candidates.size())));
      std::vector<std::string> comb = last;
      comb.insert(comb.end(), today.begin(), today.end());
      rank(comb, scores);
      const std::set<std::string> worst(comb.end() - static_cast<long>(std::min(o.n_drop, comb.size())), comb.end());
      std::vector<std::string> sell;
      for (const auto& s : last) {
        if (worst.count(s)) sell.push_back(s);
      }
      const long n_buy = static_cast<long>(sell.size() + o.topk) - static_cast<long>(last.size());
      const std::vector<std::string> buy(today.begin(), today.begin() + std::clamp<long>(n_buy, 0, static_cast<long>(today.size())));

      auto limits = [&](const std::string& symbol, const Bar& b) {
        const Bar* previous = cursor(symbol)->before();
        const double pre = b.pre_close > 0 ? b.pre_close : (previous ? previous->close : b.close);
        return price_limits(pre, price_limit_percent(symbol, d, b.st));
      };
      for (const auto& s : sell) {
        const Bar* b = cursor(s)->on(d);
        if (!b || limits(s, *b).closed_at_down(b->close)) {
          ++result.blocked_sells;
          continue;
        }
        const double amount = holdings[s].shares * b->close;
        const double cost = trade_cost(amount, o.close_cost, o.min_cost);
        cash += amount - cost;
        day_cost += cost;
        traded += amount;
        holdings.erase(s);
      }
      const double budget = buy.empty() ? 0.0 : cash * o.risk_degree / static_cast<double>(buy.size());
      for (const auto& s : buy) {
        const Cursor* c = cursor(s);
        const Bar* b = c ? c->on(d) : nullptr;
        if (!b || limits(s, *b).closed_at_up(b->close)) {
          ++result.blocked_buys;
          continue;
        }
        const double lot_price = b->close * static_cast<double>(o.lot);
        double lots = std::floor(budget / lot_price);
        while (lots > 0 && lots * lot_price + trade_cost(lots * lot_price, o.open_cost, o.min_cost) > cash) lots -= 1;
        if (lots <= 0) continue;
        const double amount = lots * lot_price;
        const double cost = trade_cost(amount, o.open_cost, o.min_cost);
        cash -= amount + cost;
        day_cost += cost;
        traded += amount;
        holdings[s] = {lots * static_cast<double>(o.lot), b->adj_factor, b->close};
      }
    }
    // 4. The account at d's close.
    double value = cash;
    for (const auto& [symbol, h] : holdings) value += h.shares * h.price;
    // 5. Benchmarks: t's members from their close on or before t to d (0 when not traded on d).
    double sum = 0, cap_sum = 0, cap_weighted = 0;
    for (const auto& m : members) {
      const Bar* b = cursor(*m.symbol)->on(d);
      const double r = b ? b->close * b->adj_factor / m.close_adj - 1.0 : 0.0;
      sum += r;
      if (m.cap > 0) {
        cap_weighted += m.cap * r;
        cap_sum += m.cap;
      }
    }
    BacktestDay day;
    day.date = d;
    day.value = value;
    day.ret = value / previous_value - 1.0;
    day.cost = day_cost / previous_value;
    day.turnover = traded / (2.0 * previous_value);
    day.bench = members.empty() ? 0.0 : sum / static_cast<double>(members.size());
    day.bench_cap = cap_sum > 0 ? cap_weighted / cap_sum : day.bench;
    day.holdings = holdings.size();
    day.cash = cash;
    result.days.push_back(day);
    previous_value = value;
  }
  return result;
}

nlohmann::json qlib_risk(const std::vector<double>& r) {
  const auto [m, sd] = mean_std(r);
  // Qlib: (cumsum - cummax(cumsum)).min(); the running peak starts at the first day's sum.
  double cum = 0, peak = -std::numeric_limits<double>::infinity(), drawdown = 0;
  for (double x : r) {
    cum += x;
    peak = std::max(peak, cum);
    drawdown = std::min(drawdown, cum - peak);
  }
  auto number = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
  return {{"mean", number(m)},
          {"std", number(sd)},
          {"annualized_return", number(m * kTradingDays)},
          {"information_ratio", number(sd > 0 ? m / sd * std::sqrt(kTradingDays) : kNaN)},
          {"max_drawdown", number(drawdown)}};
}

nlohmann::json BacktestResult::summary() const {
  std::vector<double> r, gross, excess, excess_gross, excess_cap, bench;
  double value_peak = options.initial_cash, max_dd = 0, growth = 1, bench_growth = 1, turnover = 0, cost = 0,
         previous = options.initial_cash;
  for (const auto& d : days) {
    r.push_back(d.ret);
    gross.push_back(d.ret + d.cost);
    bench.push_back(d.bench);
    excess.push_back(d.ret - d.bench);
    excess_gross.push_back(d.ret + d.cost - d.bench);
    excess_cap.push_back(d.ret - d.bench_cap);
    value_peak = std::max(value_peak, d.value);
    max_dd = std::min(max_dd, d.value / value_peak - 1.0);
    growth *= 1.0 + d.ret;
    bench_growth *= 1.0 + d.bench;
    turnover += d.turnover;
    cost += d.cost * previous;
    previous = d.value;
  }
  const double n = static_cast<double>(days.size());
  const double years = n / kTradingDays;
  return {{"days", days.size()},
          {"first_day", days.empty() ? "" : days.front().date},
          {"last_day", days.empty() ? "" : days.back().date},
          {"convention",
           "qlib: daily mean x 238, mean / std x sqrt(238), max drawdown of the cumulative sum of daily returns"},
          {"excess_return_with_cost", qlib_risk(excess)},
          {"excess_return_without_cost", qlib_risk(excess_gross)},
          {"excess_return_with_cost_vs_cap_weighted", qlib_risk(excess_cap)},
          {"return_with_cost", qlib_risk(r)},
          {"return_without_cost", qlib_risk(gross)},
          {"benchmark", qlib_risk(bench)},
          {"compounded",
           {{"note", "geometric: value curve growth, annualised over 238 trading days a year"},
            {"total_return", growth - 1.0},
            {"annualized_return", std::pow(growth, 1.0 / years) - 1.0},
            {"benchmark_total_return", bench_growth - 1.0},
            {"benchmark_annualized_return", std::pow(bench_growth, 1.0 / years) - 1.0},
            {"max_drawdown", max_dd}}},
          {"mean_turnover", n > 0 ? turnover / n : 0.0},
          {"total_cost_cny", cost},
          {"final_value", days.empty() ? options.initial_cash : days.back().value},
          {"blocked_buys", blocked_buys},
          {"blocked_sells", blocked_sells},
          {"delisted_positions", delisted_positions}};
}

nlohmann::json BacktestResult::to_json() const {
  nlohmann::json daily = nlohmann::json::array();
  for (const auto& d : days) {
    daily.push_back({{"date", d.date},       {"value", d.value},   {"return", d.ret},
                     {"cost", d.cost},       {"bench", d.bench},   {"bench_cap_weighted", d.bench_cap},
                     {"excess", d.ret - d.bench}, {"turnover", d.turnover}, {"holdings", d.holdings},
                     {"cash", d.cash}});
  }
  return {{"strategy", "TopkDropout"}, {"options", options.to_json()}, {"summary", summary()}, {"daily", daily}};
}

}  // namespace klab
