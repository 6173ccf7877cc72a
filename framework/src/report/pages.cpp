#include "report/pages.h"

#include <cstdlib>
#include <map>

#include <boost/dll/runtime_symbol_info.hpp>

#include "klab/error.h"
#include "runs/files.h"

namespace klab::report {

namespace fs = std::filesystem;

namespace {

const char* const kAssets[] = {"page.html", "report.css", "report.js", "echarts.min.js"};

// The page's data inside <script type="application/json">: only "</" could end the element early
// ("<\/" is the same string to JSON.parse).
std::string script_safe_json(const nlohmann::json& data) {
  const std::string text = data.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string out;
  out.reserve(text.size() + 64);
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '<' && i + 1 < text.size() && (text[i + 1] == '/' || text[i + 1] == '!')) {
      out += "\\u003c";
    } else {
      out += text[i];
    }
  }
  return out;
}

// Replaces each {{key}} of `page` once, in one pass: inserted text is never scanned again.
std::string fill(const std::string& page, const std::map<std::string, std::string>& values) {
  std::string out;
  std::size_t at = 0;
  while (true) {
    const std::size_t open = page.find("{{", at);
    if (open == std::string::npos) break;
    const std::size_t close = page.find("}}", open);
    if (close == std::string::npos) break;
    const auto it = values.find(page.substr(open + 2, close - open - 2));
    if (it == values.end()) {
      out.append(page, at, close + 2 - at);
    } else {
      out.append(page, at, open - at);
      out += it->second;
    }
    at = close + 2;
  }
  out.append(page, at, std::string::npos);
  return out;
}

std::string title_of(const nlohmann::json& data) {
  const std::string page = data.value("page", "");
  if (page == "run") return "run " + data.value("name", "");
  if (page == "sweep") return "sweep " + data.value("name", "");
  if (page == "compare") return "compare runs";
  return "runs in " + data.value("output_dir", std::string("out"));
}

}  // namespace

std::string html_escape(const std::string& text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

fs::path web_dir() {
  fs::path dir;
  if (const char* env = std::getenv("KLAB_WEB_DIR"); env && *env) {
    dir = env;
  } else {
    std::error_code ec;
    const fs::path lib = fs::weakly_canonical(boost::dll::this_line_location(), ec).parent_path();
    dir = lib.parent_path() / "share" / "klab" / "web";
    if (!fs::exists(dir / "page.html", ec)) {
      const fs::path multiarch = lib.parent_path().parent_path() / "share" / "klab" / "web";  // lib/x86_64-linux-gnu
      if (fs::exists(multiarch / "page.html", ec)) dir = multiarch;
    }
  }
  for (const char* asset : kAssets) {
    std::error_code ec;
    if (!fs::is_regular_file(dir / asset, ec)) {
      throw IoError((dir / asset).string() + ": report page asset missing (the build copies web/ and the chart "
                    "library from web/node_modules: run `npm ci --prefix web` and rebuild, or set KLAB_WEB_DIR)");
    }
  }
  return dir;
}

std::string render_page(const nlohmann::json& data, const PageOptions& options) {
  const fs::path dir = web_dir();
  const nlohmann::json settings = {{"api", options.api}, {"poll_seconds", options.poll_seconds},
                                   {"links", options.site ? "site" : "server"}, {"depth", options.depth}};
  return fill(files::read_text(dir / "page.html"),
              {{"title", html_escape("klab — " + title_of(data))},
               {"style", files::read_text(dir / "report.css")},
               {"chart_library", files::read_text(dir / "echarts.min.js")},
               {"app", files::read_text(dir / "report.js")},
               {"data", script_safe_json(data)},
               {"settings", script_safe_json(settings)}});
}

}  // namespace klab::report
