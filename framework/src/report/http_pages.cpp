#include "report/http_pages.h"

#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "report/pages.h"
#include "report/report_data.h"

namespace klab::report {

namespace fs = std::filesystem;

namespace {

// No network at view time but this service: inline scripts and styles, data: images, fetch to self.
constexpr const char* kPagePolicy =
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

void common_headers(httplib::Response& res) {
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("Cache-Control", "no-store");
}

void json_reply(httplib::Response& res, int status, const nlohmann::json& body) {
  common_headers(res);
  res.status = status;
  res.set_content(body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n", "application/json");
}

void html_reply(httplib::Response& res, int status, const std::string& html) {
  common_headers(res);
  res.set_header("Content-Security-Policy", kPagePolicy);
  res.status = status;
  res.set_content(html, "text/html; charset=utf-8");
}

void html_error(httplib::Response& res, int status, const std::string& message) {
  html_reply(res, status, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><link rel=\"icon\" href=\"data:,\">"
                          "<title>klab — " + std::to_string(status) + "</title></head><body><h1>" + std::to_string(status) +
                          "</h1><p>" + html_escape(message) + "</p><p><a href=\"/\">all runs</a></p></body></html>");
}

// Runs `build`, answering with its page (or JSON) and mapping errors: NotFound 404, a bad query
// (ConfigError) 400, anything else 500 with its first line.
template <typename Build>
void answer(httplib::Response& res, bool page, const std::string& api, Build build) {
  try {
    const nlohmann::json data = build();
    if (!page) return json_reply(res, 200, data);
    PageOptions options;
    options.api = api;
    html_reply(res, 200, render_page(data, options));
  } catch (const NotFound& e) {
    page ? html_error(res, 404, e.what()) : json_reply(res, 404, {{"error", e.what()}});
  } catch (const ConfigError& e) {
    page ? html_error(res, 400, e.what()) : json_reply(res, 400, {{"error", e.what()}});
  } catch (const std::exception& e) {
    const std::string first = std::string(e.what()).substr(0, std::string(e.what()).find('\n'));
    page ? html_error(res, 500, first) : json_reply(res, 500, {{"error", first}});
  }
}

}  // namespace

bool is_page_path(const std::string& path) {
  return path == "/" || path == "/compare" || path == "/api/runs" || path == "/api/compare" ||
         path.rfind("/runs/", 0) == 0 || path.rfind("/sweeps/", 0) == 0 || path.rfind("/api/", 0) == 0;
}

void add_page_routes(httplib::Server& server, const fs::path& output_dir) {
  const fs::path out = output_dir;
  server.Get("/", [out](const httplib::Request&, httplib::Response& res) {
    answer(res, true, "", [&] { return index_data(out); });
  });
  server.Get("/api/runs", [out](const httplib::Request&, httplib::Response& res) {
    answer(res, false, "", [&] { return index_data(out); });
  });
  server.Get(R"(/runs/([^/]+))", [out](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    answer(res, true, "/api/runs/" + name, [&] { return run_data(out, name, req.get_param_value("symbol")); });
  });
  server.Get(R"(/api/runs/([^/]+))", [out](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    answer(res, false, "", [&] { return run_data(out, name, req.get_param_value("symbol")); });
  });
  server.Get(R"(/api/runs/([^/]+)/predictions)", [out](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    answer(res, false, "", [&] { return run_predictions(out, name, req.get_param_value("symbol")); });
  });
  server.Get(R"(/sweeps/([^/]+))", [out](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    answer(res, true, "", [&] { return sweep_data(out, name); });
  });
  server.Get(R"(/api/sweeps/([^/]+))", [out](const httplib::Request& req, httplib::Response& res) {
    const std::string name = req.matches[1];
    answer(res, false, "", [&] { return sweep_data(out, name); });
  });
  server.Get("/compare", [out](const httplib::Request& req, httplib::Response& res) {
    answer(res, true, "", [&] { return compare_data(out, split_names(req.get_param_value("runs"))); });
  });
  server.Get("/api/compare", [out](const httplib::Request& req, httplib::Response& res) {
    answer(res, false, "", [&] { return compare_data(out, split_names(req.get_param_value("runs"))); });
  });
}

}  // namespace klab::report
