// The report pages in a real browser (Debian's headless Chromium, driven by puppeteer-core from
// web/node_modules): every page opens without a console error, every chart holds the number of
// points the run's files say (expectations computed by the calling test from the files, not from
// klab), the index sorts and filters, a hostile name stays text, a running run's curves grow
// without a reload, and exported files open offline. Screenshots go to the artefacts folder.
//
// Usage: node pages_test.js SPEC.json    (tests/integration/report_pages.sh writes SPEC)
"use strict";
const fs = require("fs");
const path = require("path");

const spec = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
const puppeteer = require(path.join(spec.web_modules, "puppeteer-core"));

let failures = 0;
function fail(what) { console.log("FAIL: " + what); failures += 1; }
function check(cond, what) { if (!cond) fail(what); return cond; }

async function open(browser, url, shot, opts) {
  const page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  const errors = [];
  page.on("console", (m) => { if (m.type() === "error") errors.push("console: " + m.text()); });
  page.on("pageerror", (e) => errors.push("page error: " + e.message));
  page.on("requestfailed", (r) => errors.push("request failed: " + r.url() + " " + (r.failure() || {}).errorText));
  page.on("dialog", async (d) => { errors.push("dialog opened (script ran from data?): " + d.message()); await d.dismiss(); });
  page.on("request", (r) => {
    const u = r.url();
    if (!u.startsWith(spec.base || "http://127.0.0.1") && !u.startsWith("file:") && !u.startsWith("data:")) {
      errors.push("network request outside the service: " + u);
    }
  });
  const res = await page.goto(url, { waitUntil: "load" });
  if (res && !url.startsWith("file:")) check(res.status() === (opts && opts.status || 200), url + ": HTTP " + res.status());
  if (!opts || !opts.status) await page.waitForSelector("body[data-ready='1']", { timeout: 20000 });
  page.klabErrors = errors;
  page.klabShot = shot;
  return page;
}

async function finish(page) {
  if (page.klabShot) await page.screenshot({ path: path.join(spec.artefacts, page.klabShot + ".png"), fullPage: true });
  for (const e of page.klabErrors) fail(page.url() + ": " + e);
  await page.close();
}

// data-points of each chart, and the length of each echarts series (the library's own count).
async function chartPoints(page) {
  return page.evaluate(() => {
    const out = {};
    document.querySelectorAll(".chart").forEach((node) => {
      const inst = window.echarts && window.echarts.getInstanceByDom(node);
      const series = inst ? inst.getOption().series.map((s) => (s.data || []).length) : [];
      out[node.id] = { points: Number(node.getAttribute("data-points")), series: series, visible: node.offsetParent !== null };
    });
    return out;
  });
}

async function checkCharts(page, expect, label) {
  const got = await chartPoints(page);
  for (const [id, n] of Object.entries(expect)) {
    if (!check(id in got, label + ": chart " + id + " missing")) continue;
    check(got[id].points === n, label + ": " + id + " has " + got[id].points + " points, expected " + n);
    check(got[id].series.length > 0 && got[id].series[0] === n,
      label + ": " + id + " first series holds " + got[id].series[0] + " points, expected " + n);
    check(got[id].visible, label + ": " + id + " is hidden");
  }
  return got;
}

async function rowNames(page, table) {
  return page.$$eval("#" + table + " tbody tr", (rows) => rows.map((r) => r.getAttribute("data-name")));
}

async function testIndex(browser) {
  const page = await open(browser, spec.base + "/", "index");
  const names = await rowNames(page, "runs");
  check(names.length === spec.index.runs, "index lists " + names.length + " runs, expected " + spec.index.runs);
  // Sort by name (ascending, then descending) and by rank_ic (best first, runs without it last).
  await page.click("th[data-key='name']");
  let shown = await rowNames(page, "runs");
  const sorted = shown.slice().sort((a, b) => a.localeCompare(b));
  check(JSON.stringify(shown) === JSON.stringify(sorted), "sort by name ascending: " + shown.join(" "));
  await page.click("th[data-key='name']");
  shown = await rowNames(page, "runs");
  check(JSON.stringify(shown) === JSON.stringify(sorted.slice().reverse()), "sort by name descending: " + shown.join(" "));
  await page.click("th[data-key='mape']");
  shown = await rowNames(page, "runs");
  const mape = spec.index.mape;  // name -> mape from eval_results.json
  const withMape = shown.filter((n) => n in mape);
  for (let i = 1; i < withMape.length; i++) {
    check(mape[withMape[i - 1]] <= mape[withMape[i]], "sort by MAPE: " + withMape[i - 1] + " before " + withMape[i]);
  }
  check(shown.slice(0, withMape.length).every((n) => n in mape), "runs without MAPE sort last: " + shown.join(" "));
  // Filter by text and by status.
  await page.type("#filter", spec.index.filter_text);
  shown = await rowNames(page, "runs");
  check(shown.length === spec.index.filter_count, "filter '" + spec.index.filter_text + "' shows " + shown.length +
    ", expected " + spec.index.filter_count);
  await page.$eval("#filter", (e) => { e.value = ""; e.dispatchEvent(new Event("input")); });
  await page.select("#status-filter", "completed");
  shown = await rowNames(page, "runs");
  check(shown.length === spec.index.completed, "status filter shows " + shown.length + " completed, expected " + spec.index.completed);
  await page.select("#status-filter", "");
  // Names in Chinese, shown as text; a hostile run name is text, not markup.
  const text = await page.$eval("#runs", (t) => t.innerText);
  for (const t of spec.index.texts) check(text.includes(t), "index shows '" + t + "'");
  check(await page.$$eval("#runs img, #runs script", (n) => n.length) === 0, "a run's name became markup");
  const sweeps = await rowNames(page, "sweeps");
  check(sweeps.length === spec.index.sweeps, "index lists " + sweeps.length + " sweeps, expected " + spec.index.sweeps);
  // Ticking two runs links to the compare page.
  await page.click("#runs tbody tr:nth-child(1) input");
  await page.click("#runs tbody tr:nth-child(2) input");
  const href = await page.$eval("#compare", (a) => a.getAttribute("href"));
  check(href.startsWith("/compare?runs="), "compare link: " + href);
  await finish(page);
}

async function testPage(browser, p) {
  const page = await open(browser, p.url, p.shot, p);
  if (p.status) {
    const body = await page.$eval("body", (b) => b.innerText);
    check(body.includes(p.text || ""), p.url + ": error page says '" + p.text + "': " + body.slice(0, 200));
    page.klabErrors = page.klabErrors.filter((e) => !e.includes("404") && !e.includes("status of"));
    return finish(page);
  }
  await checkCharts(page, p.charts || {}, p.shot);
  const text = await page.$eval("main", (m) => m.innerText);
  for (const t of p.texts || []) check(text.includes(t), p.shot + ": page shows '" + t + "'");
  for (const t of p.absent || []) check(!text.includes(t), p.shot + ": page must not show '" + t + "'");
  if (p.symbol) {
    // Another stock's predictions, from the menu.
    await page.select("#symbol", p.symbol.code);
    await page.waitForFunction((n) => Number(document.getElementById("chart-return").getAttribute("data-points")) === n,
      { timeout: 10000 }, p.symbol.points).catch(() => fail(p.shot + ": picking " + p.symbol.code + " did not show " + p.symbol.points + " points"));
  }
  await finish(page);
}

async function testLive(browser) {
  const l = spec.live;
  const page = await open(browser, l.url, "live-run");
  await page.evaluate(() => { window.__notReloaded = true; });
  const first = (await chartPoints(page))["chart-loss"].points;
  const grew = await page.waitForFunction((n) => Number(document.getElementById("chart-loss").getAttribute("data-points")) > n &&
    window.klab.updates > 0, { timeout: l.timeout_ms, polling: 200 }, first).then(() => true).catch(() => false);
  check(grew, "live: the loss curve did not grow past " + first + " points while the run trained");
  check(await page.evaluate(() => window.__notReloaded === true), "live: the page reloaded");
  const live = await page.$eval("#live", (e) => e.textContent);
  check(/live|updat/.test(live) || !grew, "live: the header says the page updates: " + live);
  await finish(page);
  return first;
}

(async () => {
  const browser = await puppeteer.launch({
    executablePath: spec.chromium, headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run", "--lang=zh-CN"],
  });
  try {
    if (spec.index) await testIndex(browser);
    for (const p of spec.pages || []) await testPage(browser, p);
    if (spec.live) await testLive(browser);
  } catch (e) {
    fail("driver: " + (e && e.stack || e));
  } finally {
    await browser.close();
  }
  if (failures) {
    console.log(failures + " failure(s)");
    process.exit(1);
  }
  console.log("PASS: report pages in Chromium (" + ((spec.pages || []).length + (spec.index ? 1 : 0) + (spec.live ? 1 : 0)) + " pages)");
})();
