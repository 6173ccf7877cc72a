// klab report pages: the runs index, one run, one sweep, and a comparison of runs.
//
// The page's data is inlined by klab (report/report_data.h) in #klab-data; served pages also get
// #klab-settings.api, an endpoint polled for fresh data while a run is still training, so its
// curves grow without a reload. Every text from the data goes into the page as text (never as
// HTML). Each chart's element carries data-points: the number of points of its main series.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("klab-data").textContent);
  var settings = JSON.parse(document.getElementById("klab-settings").textContent);
  var app = document.getElementById("app");
  var charts = {};
  window.klab = { data: data, charts: charts, updates: 0 };

  // ---- small helpers ----------------------------------------------------------------------
  function el(tag, attrs, children) {
    var e = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        if (k === "text") e.textContent = attrs[k];
        else if (k === "cls") e.className = attrs[k];
        else if (k.slice(0, 2) === "on") e.addEventListener(k.slice(2), attrs[k]);
        else e.setAttribute(k, attrs[k]);
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      e.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return e;
  }
  function isNum(v) { return typeof v === "number" && isFinite(v); }
  function fmt(v, digits) {
    if (!isNum(v)) return v === null || v === undefined ? "–" : String(v);
    var d = digits === undefined ? 4 : digits;
    if (Math.abs(v) >= 1e6) return v.toExponential(3);
    if (Number.isInteger(v) && Math.abs(v) < 1e6) return String(v);
    return v.toFixed(d);
  }
  function pct(v) { return isNum(v) ? (v * 100).toFixed(2) + " %" : "–"; }
  function get(obj, path) {
    var cur = obj;
    for (var i = 0; i < path.length; i++) {
      if (cur === null || typeof cur !== "object" || !(path[i] in cur)) return undefined;
      cur = cur[path[i]];
    }
    return cur;
  }
  // Links between pages: served (absolute paths), or a site `report --site` wrote (relative).
  function link(kind, name) {
    var site = settings.links === "site";
    var up = site ? (settings.depth ? "../" : "") : "/";
    if (kind === "index") return site ? up + "index.html" : "/";
    if (kind === "run") return site ? up + "runs/" + encodeURIComponent(name) + ".html" : "/runs/" + encodeURIComponent(name);
    if (kind === "sweep") return site ? up + "sweeps/" + encodeURIComponent(name) + ".html" : "/sweeps/" + encodeURIComponent(name);
    if (kind === "compare") return site ? null : "/compare?runs=" + name.map(encodeURIComponent).join(",");
    return "#";
  }
  function statusBadge(status) { return el("span", { cls: "status " + (status || "broken"), text: status || "broken" }); }
  function section(title, children, cls) {
    return el("section", cls ? { cls: cls } : null, [title ? el("h2", { text: title }) : null].concat(children));
  }
  function listSection(title, items, cls) {
    if (!items || !items.length) return null;
    return section(title, [el("ul", null, items.map(function (t) { return el("li", { text: t }); }))], cls);
  }
  function pre(text) { return el("pre", { text: text }); }
  function jsonBlock(title, value) {
    if (value === null || value === undefined) return null;
    return el("details", null, [el("summary", { text: title }), pre(JSON.stringify(value, null, 2))]);
  }
  function stockLabel(symbol, names) {
    return names && names[symbol] ? symbol + " " + names[symbol] : symbol;
  }

  // A chart in element `id`, created once and updated in place afterwards.
  function chartBox(id, cls) { return el("div", { id: id, cls: "chart" + (cls ? " " + cls : ""), "data-points": "0" }); }
  function plot(id, option, points) {
    var node = document.getElementById(id);
    if (!node) return;
    var chart = charts[id] || echarts.init(node, null, { renderer: "canvas" });
    charts[id] = chart;
    option.animation = false;
    chart.setOption(option, { notMerge: true });
    node.setAttribute("data-points", String(points));
  }
  var baseGrid = { left: 60, right: 60, top: 40, bottom: 60 };
  function timeAxis(dates) { return { type: "category", data: dates, boundaryGap: false }; }
  function zoom() { return [{ type: "inside" }, { type: "slider", height: 18, bottom: 8 }]; }

  // ---- the runs index ---------------------------------------------------------------------
  // [field, heading, numeric, first click sorts descending]: errors lowest first, scores highest first.
  var INDEX_COLUMNS = [
    ["name", "run", false, false], ["status", "status", false, false], ["model", "model", false, false],
    ["symbol", "symbol", false, false], ["symbols", "stocks", true, true], ["created", "created", false, true],
    ["epochs", "epochs", true, true], ["best_epoch", "best", true, true], ["mae", "MAE", true, false],
    ["mape", "MAPE %", true, false], ["r2", "R²", true, true], ["direction_accuracy", "direction %", true, true],
    ["mae_vs_baseline", "MAE / persistence", true, false], ["ic", "IC", true, true], ["rank_ic", "Rank IC", true, true],
    ["icir", "ICIR", true, true], ["rank_icir", "Rank ICIR", true, true], ["excess_return", "excess return", true, true]];

  function renderIndex() {
    var state = { sort: "created", desc: true, text: "", status: "" };
    var runs = data.runs || [];
    var statuses = {};
    runs.forEach(function (r) { statuses[r.status || "broken"] = true; });
    var filter = el("input", { type: "search", id: "filter", placeholder: "filter: name, model, symbol, 名称…", "aria-label": "filter runs" });
    var statusSelect = el("select", { id: "status-filter", "aria-label": "status" },
      [el("option", { value: "", text: "any status" })].concat(Object.keys(statuses).sort().map(function (s) {
        return el("option", { value: s, text: s });
      })));
    var compareButton = el("a", { cls: "button", id: "compare", href: "#", text: "compare selected" });
    var count = el("span", { cls: "muted", id: "count" });
    var head = el("tr", null, [el("th", { text: "" })].concat(INDEX_COLUMNS.map(function (c) {
      return el("th", { cls: "sortable" + (c[2] ? " num" : ""), "data-key": c[0], text: c[1], onclick: function () {
        if (state.sort === c[0]) state.desc = !state.desc; else { state.sort = c[0]; state.desc = c[3]; }
        draw();
      } });
    })));
    var body = el("tbody", { id: "runs-body" });
    var table = el("table", { id: "runs" }, [el("thead", null, [head]), body]);
    var selected = {};
    function matches(r) {
      if (state.status && (r.status || "broken") !== state.status) return false;
      if (!state.text) return true;
      var hay = [r.name, r.model, r.symbol, r.symbol_name, r.status, r.data_source].join(" ").toLowerCase();
      return hay.indexOf(state.text.toLowerCase()) >= 0;
    }
    function compare(a, b) {
      var x = a[state.sort], y = b[state.sort];
      var xm = x === undefined || x === null || x === "", ym = y === undefined || y === null || y === "";
      if (xm || ym) return xm === ym ? 0 : xm ? 1 : -1;  // runs without the field last
      var c = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return state.desc ? -c : c;
    }
    function draw() {
      var shown = runs.filter(matches).slice().sort(compare);
      body.textContent = "";
      shown.forEach(function (r) {
        var box = el("input", { type: "checkbox", "aria-label": "select " + r.name });
        box.checked = !!selected[r.name];
        box.addEventListener("change", function () { selected[r.name] = box.checked; updateCompare(); });
        var cells = INDEX_COLUMNS.map(function (c) {
          var v = r[c[0]];
          if (c[0] === "name") return el("td", null, [el("a", { href: link("run", r.name), text: r.name })]);
          if (c[0] === "status") {
            var cell = el("td", null, [statusBadge(v)]);
            if (r.error) cell.title = r.error;
            if (r.problems) cell.title = r.problems.join("\n");
            return cell;
          }
          if (c[0] === "symbol") return el("td", { text: r.symbol_name ? r.symbol + " " + r.symbol_name : (v || "") });
          return el("td", { cls: c[2] ? "num" : "", text: c[2] ? fmt(v) : (v === undefined ? "" : String(v)) });
        });
        body.appendChild(el("tr", { "data-name": r.name }, [el("td", null, [box])].concat(cells)));
      });
      Array.prototype.forEach.call(head.children, function (th) {
        var key = th.getAttribute("data-key");
        if (key === state.sort) th.setAttribute("aria-sort", state.desc ? "descending" : "ascending");
        else th.removeAttribute("aria-sort");
      });
      table.setAttribute("data-rows", String(shown.length));
      count.textContent = shown.length + " of " + runs.length + " runs";
    }
    function updateCompare() {
      var names = Object.keys(selected).filter(function (k) { return selected[k]; });
      var href = names.length >= 2 ? link("compare", names) : null;
      compareButton.setAttribute("href", href || "#");
      compareButton.style.opacity = href ? "1" : "0.5";
      compareButton.title = settings.links === "site" ? "compare needs `serve` (pages of a static site are fixed)" :
        "tick two runs or more";
    }
    filter.addEventListener("input", function () { state.text = filter.value; draw(); });
    statusSelect.addEventListener("change", function () { state.status = statusSelect.value; draw(); });
    app.appendChild(el("h1", { text: "Runs in " + (data.output_dir || "out") }));
    app.appendChild(section(null, [el("div", { cls: "controls" }, [filter, statusSelect, compareButton, count]),
      el("div", { cls: "table-wrap" }, [table])]));
    draw();
    updateCompare();
    var sweeps = data.sweeps || [];
    if (sweeps.length) {
      var rows = sweeps.map(function (s) {
        return el("tr", { "data-name": s.name }, [
          el("td", null, [el("a", { href: link("sweep", s.name), text: s.name })]),
          el("td", { text: s.experiment || "" }), el("td", { text: s.created || "" }),
          el("td", { text: (s.metric || "") + (s.metric_mode ? " (" + s.metric_mode + ")" : "") }),
          el("td", { cls: "num", text: fmt(s.best) }),
          el("td", { cls: "num", text: s.problem ? "unreadable" : (s.completed + " / " + s.trials + (s.failed ? ", " + s.failed + " failed" : "")) })]);
      });
      app.appendChild(section("Sweeps", [el("div", { cls: "table-wrap" }, [el("table", { id: "sweeps", "data-rows": String(rows.length) }, [
        el("thead", null, [el("tr", null, ["record", "experiment", "created", "metric", "best", "completed"].map(function (t) {
          return el("th", { text: t });
        }))]), el("tbody", null, rows)])])]));
    }
    var problems = listSection("Not runs", data.problems, "problems");
    if (problems) app.appendChild(problems);
  }

  // ---- one run ----------------------------------------------------------------------------
  function metricsTable(run) {
    var ev = run.eval || {};
    var rows = [];
    var base = ev.baseline || {};
    var pointwise = [["mae", "MAE"], ["rmse", "RMSE"], ["mape", "MAPE %"], ["r2", "R²"], ["direction_accuracy", "direction %"]];
    var normalize = get(run, ["experiment", "target", "normalize"]);
    var scores = normalize && normalize !== "none";
    if (scores && isNum(ev.mae)) {
      rows.push(el("tr", null, [el("td", { cls: "muted", text: "target.normalize " + normalize +
        ": the model predicts cross-sectional scores, so MAE and R² say little; judge it by IC, Rank IC and the portfolio" })]));
    } else if (pointwise.some(function (m) { return isNum(ev[m[0]]); })) {
      rows.push(el("tr", null, [el("th", { text: "metric" }), el("th", { cls: "num", text: "model" }),
        el("th", { cls: "num", text: base.kind ? "baseline: " + base.kind : "baseline" })]));
      pointwise.forEach(function (m) {
        if (!isNum(ev[m[0]]) && !isNum(base[m[0]])) return;
        var better = isNum(ev[m[0]]) && isNum(base[m[0]]) &&
          ((m[0] === "r2" || m[0] === "direction_accuracy") ? ev[m[0]] > base[m[0]] : ev[m[0]] < base[m[0]]);
        rows.push(el("tr", null, [el("td", { text: m[1] }), el("td", { cls: "num " + (better ? "good" : ""), text: fmt(ev[m[0]]) }),
          el("td", { cls: "num", text: fmt(base[m[0]]) })]));
      });
    }
    var cs = ev.cross_section;
    var bt = get(run, ["backtest", "summary"]);
    var signal = ev.baseline_signal;
    if (cs || bt) {
      rows.push(el("tr", null, [el("th", { text: "ranking and portfolio" }), el("th", { cls: "num", text: "model" }),
        el("th", { cls: "num", text: signal && signal.name ? "model-free " + signal.name : "model-free signal" })]));
      var sig = signal || {};
      var csRows = [["IC", ["cross_section", "ic_mean"]], ["ICIR", ["cross_section", "icir"]],
        ["Rank IC", ["cross_section", "rank_ic_mean"]], ["Rank ICIR", ["cross_section", "rank_icir"]],
        ["share of days Rank IC > 0", ["cross_section", "rank_ic_positive_share"]],
        ["excess return a year, after costs", ["backtest", "excess_return_with_cost", "annualized_return"]],
        ["information ratio, after costs", ["backtest", "excess_return_with_cost", "information_ratio"]],
        ["max drawdown, after costs", ["backtest", "excess_return_with_cost", "max_drawdown"]],
        ["excess return a year, before costs", ["backtest", "excess_return_without_cost", "annualized_return"]]];
      csRows.forEach(function (m) {
        var mine = m[1][0] === "backtest" ? get(bt, m[1].slice(1)) : get(ev, m[1]);
        var theirs = get(sig, m[1]);
        if (!isNum(mine) && !isNum(theirs)) return;
        rows.push(el("tr", null, [el("td", { text: m[0] }), el("td", { cls: "num", text: fmt(mine) }), el("td", { cls: "num", text: fmt(theirs) })]));
      });
      var bench = get(bt, ["benchmark", "annualized_return"]);
      if (isNum(bench)) rows.push(el("tr", null, [el("td", { text: "benchmark return a year (equal-weighted universe)" }),
        el("td", { cls: "num", text: fmt(bench) }), el("td", { text: "" })]));
    }
    if (!rows.length) return el("p", { cls: "muted", text: "No evaluation yet (results/eval_results.json)." });
    return el("table", { id: "metrics", cls: "kv" }, [el("tbody", null, rows)]);
  }

  function lossOption(epochs, best) {
    var x = epochs.map(function (e) { return e.epoch; });
    var train = epochs.map(function (e) { return e.train_loss; });
    var val = epochs.map(function (e) { return e.val_loss; });
    var marks = [];
    if (isNum(best)) marks.push({ xAxis: String(best), label: { formatter: "best epoch " + best } });
    return {
      tooltip: { trigger: "axis" }, legend: { data: ["train loss", "validation loss"] }, grid: baseGrid,
      xAxis: { type: "category", data: x.map(String), name: "epoch", nameLocation: "middle", nameGap: 28 },
      yAxis: { type: "value", scale: true },
      series: [{ name: "train loss", type: "line", data: train, showSymbol: true },
        { name: "validation loss", type: "line", data: val, showSymbol: true,
          markLine: marks.length ? { symbol: "none", lineStyle: { type: "dashed", color: "#1a7f37" }, data: marks } : undefined }]
    };
  }

  function predictionCharts(run, holder) {
    var p = run.predictions;
    holder.textContent = "";
    if (!p || !p.rows || !p.rows.length) {
      holder.appendChild(el("p", { cls: "muted", text: "No test predictions yet." }));
      return;
    }
    var symbols = p.symbols || [];
    var names = Object.assign({}, run.names || {}, p.names || {});
    var present = {};
    p.rows.forEach(function (r) { present[r[1]] = true; });
    var current = holder.getAttribute("data-symbol") || symbols.filter(function (s) { return present[s]; })[0] || symbols[0];
    if (symbols.length > 1) {
      var select = el("select", { id: "symbol", "aria-label": "symbol" }, symbols.map(function (s) {
        var o = el("option", { value: s, text: stockLabel(s, names) + (present[s] ? "" : " (load)") });
        if (s === current) o.selected = true;
        return o;
      }));
      select.addEventListener("change", function () {
        holder.setAttribute("data-symbol", select.value);
        if (present[select.value] || !settings.api) return predictionCharts(run, holder);
        fetch(settings.api + "/predictions?symbol=" + encodeURIComponent(select.value)).then(function (r) { return r.json(); })
          .then(function (more) {
            if (more.rows) { p.rows = p.rows.concat(more.rows); }
            predictionCharts(run, holder);
          });
      });
      holder.appendChild(el("div", { cls: "controls" }, [el("span", { text: "stock" }), select,
        p.complete ? null : el("span", { cls: "muted", text: "(the run has " + p.total_rows + " predictions: one stock at a time)" })]));
    }
    var rows = p.rows.filter(function (r) { return r[1] === current; });
    var dates = rows.map(function (r) { return r[0]; });
    var title = stockLabel(current, names);
    if (p.kind === "price") {
      holder.appendChild(el("div", { cls: "grid2" }, [chartBox("chart-price"), chartBox("chart-return")]));
      plot("chart-price", {
        title: { text: title + ": close, predicted vs actual", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { data: ["actual", "predicted", "persistence"], top: 22 },
        grid: { left: 60, right: 20, top: 60, bottom: 60 }, xAxis: timeAxis(dates), yAxis: { type: "value", scale: true },
        dataZoom: zoom(),
        series: [{ name: "actual", type: "line", showSymbol: false, data: rows.map(function (r) { return r[3]; }) },
          { name: "predicted", type: "line", showSymbol: false, data: rows.map(function (r) { return r[2]; }) },
          { name: "persistence", type: "line", showSymbol: false, lineStyle: { type: "dotted" }, data: rows.map(function (r) { return r[4]; }) }]
      }, rows.length);
      var ret = function (v, last) { return isNum(v) && isNum(last) && last !== 0 ? v / last - 1 : null; };
      plot("chart-return", {
        title: { text: title + ": next-day return, predicted vs actual", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { data: ["actual", "predicted"], top: 22 },
        grid: { left: 60, right: 20, top: 60, bottom: 60 }, xAxis: timeAxis(dates), yAxis: { type: "value" },
        dataZoom: zoom(),
        series: [{ name: "actual", type: "bar", data: rows.map(function (r) { return ret(r[3], r[4]); }) },
          { name: "predicted", type: "line", showSymbol: false, data: rows.map(function (r) { return ret(r[2], r[4]); }),
            markLine: { symbol: "none", silent: true, label: { formatter: "persistence: 0" }, data: [{ yAxis: 0 }] } }]
      }, rows.length);
    } else {
      holder.appendChild(chartBox("chart-return"));
      var target = get(run, ["experiment", "target"]) || {};
      var score = target.normalize && target.normalize !== "none";
      plot("chart-return", {
        title: { text: title + ": " + (score ? "predicted score" : "predicted return") + " vs realised return", textStyle: { fontSize: 13 } },
        tooltip: { trigger: "axis" }, legend: { data: ["realised return", score ? "predicted score" : "predicted return"], top: 22 },
        grid: { left: 60, right: 60, top: 60, bottom: 60 }, xAxis: timeAxis(dates),
        yAxis: score ? [{ type: "value", name: "return" }, { type: "value", name: "score" }] : { type: "value" },
        dataZoom: zoom(),
        series: [{ name: "realised return", type: "bar", data: rows.map(function (r) { return r[3]; }) },
          { name: score ? "predicted score" : "predicted return", type: "line", showSymbol: false, yAxisIndex: score ? 1 : 0,
            data: rows.map(function (r) { return r[2]; }) }]
      }, rows.length);
    }
  }

  function icOption(ic) {
    var cum = [], sum = 0;
    ic.ic.forEach(function (v) { if (isNum(v)) sum += v; cum.push(sum); });
    var cumRank = [], s2 = 0;
    ic.rank_ic.forEach(function (v) { if (isNum(v)) s2 += v; cumRank.push(s2); });
    return {
      tooltip: { trigger: "axis" }, legend: { data: ["IC", "Rank IC", "cumulative IC", "cumulative Rank IC"] },
      grid: baseGrid, xAxis: timeAxis(ic.dates),
      yAxis: [{ type: "value", name: "daily" }, { type: "value", name: "cumulative" }], dataZoom: zoom(),
      series: [{ name: "IC", type: "bar", data: ic.ic, itemStyle: { color: "#8fb3e8" } },
        { name: "Rank IC", type: "bar", data: ic.rank_ic, itemStyle: { color: "#f0b27a" } },
        { name: "cumulative IC", type: "line", yAxisIndex: 1, showSymbol: false, data: cum, lineStyle: { width: 2 } },
        { name: "cumulative Rank IC", type: "line", yAxisIndex: 1, showSymbol: false, data: cumRank, lineStyle: { width: 2 } }]
    };
  }

  function equityOption(bt) {
    var initial = get(bt, ["options", "initial_cash"]) || (bt.value.length && bt.value[0]) || 1;
    var value = bt.value.map(function (v) { return isNum(v) ? v / initial : null; });
    var bench = [], b = 1, capw = [], c = 1, excess = [], e = 0, dd = [], peak = -Infinity;
    for (var i = 0; i < bt.dates.length; i++) {
      if (isNum(bt.bench[i])) b *= 1 + bt.bench[i];
      bench.push(b);
      if (isNum(bt.bench_cap_weighted[i])) c *= 1 + bt.bench_cap_weighted[i];
      capw.push(c);
      // Excess as Qlib sums it (docs/EVALUATION.md): the cumulative sum of daily excess returns,
      // and its drawdown from the running peak.
      if (isNum(bt.excess[i])) e += bt.excess[i];
      excess.push(e);
      peak = Math.max(peak, e);
      dd.push(e - peak);
    }
    return {
      tooltip: { trigger: "axis" }, legend: { data: ["portfolio (after costs)", "benchmark (equal-weighted)", "benchmark (cap-weighted)", "cumulative excess", "excess drawdown"] },
      grid: [{ left: 60, right: 60, top: 40, height: "48%" }, { left: 60, right: 60, top: "68%", bottom: 50 }],
      xAxis: [timeAxis(bt.dates), Object.assign(timeAxis(bt.dates), { gridIndex: 1 })],
      yAxis: [{ type: "value", scale: true, name: "value / initial" }, { type: "value", gridIndex: 1, name: "excess" }],
      dataZoom: [{ type: "inside", xAxisIndex: [0, 1] }, { type: "slider", xAxisIndex: [0, 1], height: 18, bottom: 8 }],
      series: [{ name: "portfolio (after costs)", type: "line", showSymbol: false, data: value, lineStyle: { width: 2 } },
        { name: "benchmark (equal-weighted)", type: "line", showSymbol: false, data: bench },
        { name: "benchmark (cap-weighted)", type: "line", showSymbol: false, data: capw, lineStyle: { type: "dotted" } },
        { name: "cumulative excess", type: "line", showSymbol: false, xAxisIndex: 1, yAxisIndex: 1, data: excess },
        { name: "excess drawdown", type: "line", showSymbol: false, xAxisIndex: 1, yAxisIndex: 1, data: dd,
          itemStyle: { color: "#c62828" }, lineStyle: { width: 0 }, areaStyle: { color: "rgba(198,40,40,0.35)" } }]
    };
  }

  function renderRun() {
    var header = el("div");
    var metrics = section("Metrics beside the baseline", []);
    var loss = section("Loss per epoch", [chartBox("chart-loss")]);
    var preds = el("div", { id: "predictions" });
    var predSection = section("Test period: predicted vs actual, beside persistence", [preds]);
    var ic = section("Daily IC and Rank IC", [chartBox("chart-ic", "tall")]);
    var equity = section("Backtest: equity curve vs benchmark, drawdown shaded", [chartBox("chart-equity", "xtall")]);
    var files = section("Config, metadata, training.log", []);
    [header, metrics, loss, predSection, ic, equity, files].forEach(function (n) { app.appendChild(n); });
    var predictionsDrawn = false;

    function update(run) {
      data = run;
      window.klab.data = run;
      var rec = run.record || {};
      header.textContent = "";
      header.appendChild(el("h1", { text: run.name }));
      var symbol = rec.symbol || "";
      var syms = get(run, ["metadata", "stock_symbols"]) || [];
      header.appendChild(el("p", null, [statusBadge(rec.status), " ", rec.model || "", " · ",
        syms.length > 1 ? syms.length + " stocks" : stockLabel(symbol, run.names), " · created ", rec.created || "–",
        isNum(rec.epochs) ? " · " + rec.epochs + " epochs" : "", isNum(rec.best_epoch) ? ", best " + rec.best_epoch : ""]));
      if (rec.error) header.appendChild(el("p", { cls: "bad", text: rec.error }));
      var problems = listSection("Problems reading this run", run.problems, "problems");
      if (problems) header.appendChild(problems);
      var lacks = listSection("Not shown", run.lacks, "lacks");
      if (lacks) header.appendChild(lacks);

      metrics.replaceChildren(el("h2", { text: "Metrics beside the baseline" }), metricsTable(run));
      plot("chart-loss", lossOption(run.epochs || [], run.best_epoch), (run.epochs || []).length);
      if (!predictionsDrawn || !run.active) { predictionCharts(run, preds); predictionsDrawn = !!run.predictions; }
      predSection.style.display = run.predictions ? "" : "none";
      ic.style.display = run.ic ? "" : "none";
      if (run.ic) plot("chart-ic", icOption(run.ic), run.ic.dates.length);
      equity.style.display = run.backtest ? "" : "none";
      if (run.backtest) plot("chart-equity", equityOption(run.backtest), run.backtest.dates.length);
      files.replaceChildren(el("h2", { text: "Config, metadata, training.log" }),
        jsonBlock("experiment.json", run.experiment), jsonBlock("config.json", run.config),
        jsonBlock("metadata.json", run.metadata), jsonBlock("model/training_args.json", run.training_args),
        el("details", { open: "" }, [el("summary", { text: "logs/training.log" }), el("pre", { id: "log", text: run.log || "(empty)" })]));
      document.getElementById("live").textContent = run.active && settings.api ? "live: updates every " + settings.poll_seconds + " s" : "";
    }
    update(data);
    if (settings.api && data.active) poll(update);
  }

  // Re-reads the page's data while it is live (a run still training); stops when it is not.
  function poll(update) {
    var timer = setInterval(function () {
      fetch(settings.api, { cache: "no-store" }).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (fresh) {
        window.klab.updates += 1;
        update(fresh);
        if (!fresh.active) clearInterval(timer);
      }).catch(function (e) {
        document.getElementById("live").textContent = "not updating: " + e.message;
      });
    }, Math.max(1, settings.poll_seconds) * 1000);
  }

  // ---- a sweep ----------------------------------------------------------------------------
  function renderSweep() {
    var metric = data.metric || "metric";
    app.appendChild(el("h1", { text: "Sweep " + data.name }));
    var sw = data.sweep || {};
    app.appendChild(el("p", { cls: "muted", text: [sw.name, sw.file, sw.executor, metric + " (" + (data.metric_mode || "") + ")",
      sw.created_at].filter(Boolean).join(" · ") }));
    var problems = listSection("Problems reading this sweep", data.problems, "problems");
    if (problems) app.appendChild(problems);
    var lb = data.leaderboard || [];
    var keys = [];
    lb.forEach(function (r) { Object.keys(r.params || {}).forEach(function (k) { if (keys.indexOf(k) < 0) keys.push(k); }); });
    app.appendChild(section("Leaderboard" + (data.walk_forward ? " (walk-forward: combined out-of-sample records)" : ""), [
      el("div", { cls: "table-wrap" }, [el("table", { id: "leaderboard", "data-rows": String(lb.length) }, [
        el("thead", null, [el("tr", null, ["rank"].concat(keys, [metric + " mean", "± std", "completed", "failed", "best run"]).map(function (t) {
          return el("th", { text: t });
        }))]),
        el("tbody", null, lb.map(function (r) {
          return el("tr", null, [el("td", { text: String(r.rank) })].concat(keys.map(function (k) {
            return el("td", { text: r.params && k in r.params ? String(r.params[k]) : "" });
          }), [el("td", { cls: "num", text: fmt(r.mean) }), el("td", { cls: "num", text: fmt(r.std) }),
            el("td", { cls: "num", text: String(r.completed) }), el("td", { cls: "num", text: String(r.failed) }),
            el("td", null, [r.best_run && r.best_run.indexOf("wf-") !== 0 ? el("a", { href: link("run", r.best_run), text: r.best_run }) : (r.best_run || "")])]));
        }))])])]));
    var trials = data.trials || [];
    var valued = trials.filter(function (t) { return isNum(t.value); });
    var axes = (data.axes || []).slice();
    if (!axes.length && trials.length) axes = Object.keys(trials[0].params || {});
    var value = function (t, k) { return k === "seed" ? t.seed : (t.params || {})[k]; };
    var boxes = axes.map(function (k, i) { return chartBox("chart-axis-" + i); });
    app.appendChild(section(metric + " against each hyperparameter", [el("div", { cls: "grid2" }, boxes)]));
    axes.forEach(function (k, i) {
      var numeric = valued.every(function (t) { return isNum(value(t, k)); });
      var cats = [];
      if (!numeric) valued.forEach(function (t) { var v = String(value(t, k)); if (cats.indexOf(v) < 0) cats.push(v); });
      plot("chart-axis-" + i, {
        title: { text: metric + " vs " + k, textStyle: { fontSize: 13 } },
        tooltip: { trigger: "item", formatter: function (p) { return "trial " + p.data[2] + ": " + k + " = " + p.data[0] + ", " + metric + " = " + fmt(p.data[1]); } },
        grid: { left: 60, right: 20, top: 40, bottom: 40 },
        xAxis: numeric ? { type: "value", scale: true, name: k } : { type: "category", data: cats, name: k },
        yAxis: { type: "value", scale: true, name: metric },
        series: [{ type: "scatter", symbolSize: 10, data: valued.map(function (t) {
          return [numeric ? value(t, k) : String(value(t, k)), t.value, t.index];
        }) }]
      }, valued.length);
    });
    var dims = axes.concat([metric]);
    var parallelBox = chartBox("chart-parallel", "tall");
    app.appendChild(section("Parallel coordinates over the trials", [parallelBox]));
    var parallelAxis = dims.map(function (k, i) {
      if (i === dims.length - 1) return { dim: i, name: k, scale: true };
      var numeric = valued.every(function (t) { return isNum(value(t, k)); });
      if (numeric) return { dim: i, name: k, scale: true };
      var cats = [];
      valued.forEach(function (t) { var v = String(value(t, k)); if (cats.indexOf(v) < 0) cats.push(v); });
      return { dim: i, name: k, type: "category", data: cats };
    });
    var values = valued.map(function (t) { return t.value; });
    plot("chart-parallel", {
      parallelAxis: parallelAxis, parallel: { left: 80, right: 100, top: 50, bottom: 30 },
      visualMap: values.length ? { show: true, min: Math.min.apply(null, values), max: Math.max.apply(null, values),
        dimension: dims.length - 1, inRange: { color: ["#d94e5d", "#eac736", "#50a3ba"] }, right: 0, top: "middle" } : undefined,
      series: [{ type: "parallel", lineStyle: { width: 2, opacity: 0.7 }, data: valued.map(function (t) {
        return axes.map(function (k) {
          var v = value(t, k);
          return isNum(v) ? v : String(v);
        }).concat([t.value]);
      }) }]
    }, valued.length);
    app.appendChild(section("Trials", [el("div", { cls: "table-wrap" }, [el("table", { id: "trials", "data-rows": String(trials.length) }, [
      el("thead", null, [el("tr", null, ["trial"].concat(axes, ["status", metric, "run"]).map(function (t) { return el("th", { text: t }); }))]),
      el("tbody", null, trials.map(function (t) {
        return el("tr", null, [el("td", { text: "trial-" + String(t.index).padStart(4, "0") })].concat(axes.map(function (k) {
          var v = value(t, k);
          return el("td", { text: v === undefined ? "" : String(v) });
        }), [el("td", null, [statusBadge(t.status)]), el("td", { cls: "num", text: fmt(t.value) }),
          el("td", { title: t.error || "" }, [t.run ? el("a", { href: link("run", t.run), text: t.run }) : (t.error ? t.error.slice(0, 80) : "")])]));
      }))])])]));
  }

  // ---- compare ----------------------------------------------------------------------------
  function renderCompare() {
    var runs = data.runs || [];
    app.appendChild(el("h1", { text: "Compare " + runs.length + " runs" }));
    app.appendChild(el("p", null, runs.map(function (r, i) {
      return el("span", null, [i ? " · " : "", el("a", { href: link("run", r.name), text: r.name })]);
    })));
    var lossSeries = [];
    var maxEpoch = 0;
    runs.forEach(function (r) {
      (r.epochs || []).forEach(function (e) { maxEpoch = Math.max(maxEpoch, e.epoch); });
    });
    var xs = [];
    for (var e = 1; e <= maxEpoch; e++) xs.push(String(e));
    runs.forEach(function (r) {
      var byEpoch = {};
      (r.epochs || []).forEach(function (ep) { byEpoch[ep.epoch] = ep; });
      lossSeries.push({ name: r.name + " validation", type: "line", data: xs.map(function (x) { return byEpoch[x] ? byEpoch[x].val_loss : null; }) });
      lossSeries.push({ name: r.name + " train", type: "line", lineStyle: { type: "dashed" }, data: xs.map(function (x) { return byEpoch[x] ? byEpoch[x].train_loss : null; }) });
    });
    app.appendChild(section("Loss per epoch", [chartBox("chart-compare-loss", "tall")]));
    plot("chart-compare-loss", { tooltip: { trigger: "axis" }, legend: { type: "scroll" }, grid: baseGrid,
      xAxis: { type: "category", data: xs, name: "epoch" }, yAxis: { type: "value", scale: true }, series: lossSeries },
      xs.length);
    var metricRows = [["status", ["record", "status"]], ["model", ["record", "model"]], ["symbol", ["record", "symbol"]],
      ["epochs", ["record", "epochs"]], ["best epoch", ["record", "best_epoch"]], ["MAE", ["eval", "mae"]], ["RMSE", ["eval", "rmse"]],
      ["MAPE %", ["eval", "mape"]], ["R²", ["eval", "r2"]], ["direction %", ["eval", "direction_accuracy"]],
      ["persistence MAE", ["eval", "baseline", "mae"]], ["IC", ["eval", "cross_section", "ic_mean"]],
      ["Rank IC", ["eval", "cross_section", "rank_ic_mean"]], ["ICIR", ["eval", "cross_section", "icir"]],
      ["Rank ICIR", ["eval", "cross_section", "rank_icir"]],
      ["excess return a year, after costs", ["backtest", "summary", "excess_return_with_cost", "annualized_return"]],
      ["information ratio, after costs", ["backtest", "summary", "excess_return_with_cost", "information_ratio"]],
      ["max drawdown, after costs", ["backtest", "summary", "excess_return_with_cost", "max_drawdown"]]];
    var body = metricRows.filter(function (m) { return runs.some(function (r) { var v = get(r, m[1]); return v !== undefined && v !== null; }); })
      .map(function (m) {
        return el("tr", null, [el("td", { text: m[0] })].concat(runs.map(function (r) {
          var v = get(r, m[1]);
          return el("td", { cls: isNum(v) ? "num" : "", text: isNum(v) ? fmt(v) : (v === undefined || v === null ? "–" : String(v)) });
        })));
      });
    app.appendChild(section("Metrics", [el("div", { cls: "table-wrap" }, [el("table", { id: "compare-metrics", cls: "kv" }, [
      el("thead", null, [el("tr", null, [el("th", { text: "" })].concat(runs.map(function (r) { return el("th", { cls: "num", text: r.name }); })))]),
      el("tbody", null, body)])])]));
    // A cumulative sum per run over the union of their dates (each run's own days only).
    function overlay(id, title, series) {
      var shown = runs.filter(function (r) { return series(r); });
      if (!shown.length) return;
      app.appendChild(section(title, [chartBox(id)]));
      var dates = [];
      shown.forEach(function (r) { series(r).dates.forEach(function (d) { if (dates.indexOf(d) < 0) dates.push(d); }); });
      dates.sort();
      plot(id, { tooltip: { trigger: "axis" }, legend: { type: "scroll" }, grid: baseGrid, xAxis: timeAxis(dates),
        yAxis: { type: "value" }, dataZoom: zoom(), series: shown.map(function (r) {
          var at = {}, sum = 0, s = series(r);
          s.dates.forEach(function (d, i) { if (isNum(s.values[i])) sum += s.values[i]; at[d] = sum; });
          return { name: r.name, type: "line", showSymbol: false, connectNulls: true, data: dates.map(function (d) { return d in at ? at[d] : null; }) };
        }) }, dates.length);
    }
    overlay("chart-compare-ic", "Cumulative Rank IC", function (r) { return r.ic && { dates: r.ic.dates, values: r.ic.rank_ic }; });
    overlay("chart-compare-equity", "Cumulative excess return after costs", function (r) {
      return r.backtest && { dates: r.backtest.dates, values: r.backtest.excess };
    });
  }

  // ---- start ------------------------------------------------------------------------------
  document.getElementById("home").setAttribute("href", link("index"));
  var crumbs = { index: "runs", run: "run", sweep: "sweep", compare: "compare" };
  document.getElementById("crumbs").textContent = crumbs[data.page] || "";
  if (data.page === "run") renderRun();
  else if (data.page === "sweep") renderSweep();
  else if (data.page === "compare") renderCompare();
  else renderIndex();
  window.addEventListener("resize", function () { Object.keys(charts).forEach(function (k) { charts[k].resize(); }); });
  document.body.setAttribute("data-ready", "1");
})();
