// report/pages.h — a report page as one self-contained HTML file.
//
// A page is web/page.html with the chart library (ECharts, from the npm registry, pinned by
// web/package-lock.json and copied into the build), klab's stylesheet and script, and the page's
// data (report_data.h) inlined: it opens offline, from `serve` or from a file `report` wrote.
// Served pages also poll `api` for fresh data while the run they show is still training.
#pragma once

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace klab::report {

// Where the page assets are: $KLAB_WEB_DIR, else share/klab/web beside libklab's lib/ folder (the
// build tree and an installed tree alike). Throws IoError naming the folder when a file is missing.
std::filesystem::path web_dir();

struct PageOptions {
  std::string api;       // served: the JSON endpoint the page polls while live ("" = exported, static)
  int poll_seconds = 2;
  bool site = false;     // one page of a static site (`report --site`): links are relative files
  int depth = 0;         // the page's folder depth in that site (index 0, runs/NAME.html 1)
};

// The whole HTML document for a page's data.
std::string render_page(const nlohmann::json& data, const PageOptions& options = {});

// Text safe inside HTML (&, <, >, ", ').
std::string html_escape(const std::string& text);

}  // namespace klab::report
