// report/http_pages.h — the report pages as routes of an HTTP server (`serve`).
//
//   GET /                      the runs index          GET /api/runs               its data (JSON)
//   GET /runs/NAME             one run                 GET /api/runs/NAME          (?symbol=CODE)
//                                                      GET /api/runs/NAME/predictions?symbol=CODE
//   GET /sweeps/RECORD         one sweep               GET /api/sweeps/RECORD
//   GET /compare?runs=A,B,...  runs side by side       GET /api/compare?runs=A,B,...
//
// Read-only: nothing under the output folder is written. Runs and sweeps are folder names
// (report_data.h's is_plain_name): a path, "..", or an absolute path is a 404. Pages are HTML with
// a Content-Security-Policy that allows no network but the service itself; errors on pages are
// HTML, errors on /api/ JSON.
#pragma once

#include <filesystem>

namespace httplib {
class Server;
}

namespace klab::report {

void add_page_routes(httplib::Server& server, const std::filesystem::path& output_dir);

// Whether `path` is one of the routes above (for a server's "no such endpoint" message).
bool is_page_path(const std::string& path);

}  // namespace klab::report
