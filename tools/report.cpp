// report — the report pages as HTML files that open offline (one file each: the chart library,
// the styles and the data are inside).
//
//   report --site reports/                      index.html, runs/NAME.html, sweeps/RECORD.html
//   report --run 600519_lstm_20250119_143025 -o run.html
//   report --sweep grid_20250119_143025 -o sweep.html
//   report --compare RUN_A,RUN_B -o compare.html
//   report --index -o runs.html
//
// It reads the output folder and writes only what it is asked to: an existing -o file is kept
// unless --force, and --site writes only into an empty folder or one an earlier `report --site`
// made (it leaves a .klab-report marker there).
#include <fstream>
#include <iostream>

#include <boost/program_options.hpp>

#include "cli/options.h"
#include "report/pages.h"
#include "report/report_data.h"
#include "runs/files.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

constexpr const char* kSiteMarker = ".klab-report";

void write_page(const fs::path& file, const nlohmann::json& data, const klab::report::PageOptions& options, bool force) {
  std::error_code ec;
  if (!force && fs::exists(file, ec)) {
    throw klab::IoError(file.string() + ": exists; pass --force to replace it, or choose another -o");
  }
  if (file.has_parent_path()) fs::create_directories(file.parent_path());
  klab::files::write_atomic(file, klab::report::render_page(data, options));
}

int write_site(const fs::path& out, const fs::path& site) {
  std::error_code ec;
  if (fs::exists(site, ec)) {
    if (!fs::is_directory(site, ec)) throw klab::IoError(site.string() + ": not a folder");
    const bool empty = fs::directory_iterator(site, ec) == fs::directory_iterator();
    if (!empty && !fs::exists(site / kSiteMarker, ec)) {
      throw klab::IoError(site.string() + ": not empty and not made by `report --site` (no " + kSiteMarker +
                          "): choose an empty or new folder");
    }
  }
  fs::create_directories(site / "runs");
  fs::create_directories(site / "sweeps");
  klab::files::write_atomic(site / kSiteMarker, "written by klab report --site; it may rewrite this folder\n");
  const nlohmann::json index = klab::report::index_data(out);
  klab::report::PageOptions top;
  top.site = true;
  klab::files::write_atomic(site / "index.html", klab::report::render_page(index, top));
  klab::report::PageOptions inner = top;
  inner.depth = 1;
  std::size_t runs = 0, sweeps = 0;
  for (const auto& r : index["runs"]) {
    const std::string name = r.value("name", "");
    try {
      klab::files::write_atomic(site / "runs" / (name + ".html"), klab::report::render_page(klab::report::run_data(out, name), inner));
      ++runs;
    } catch (const klab::report::NotFound& e) {
      std::cerr << "report: skipped " << name << ": " << e.what() << "\n";
    }
  }
  for (const auto& s : index["sweeps"]) {
    const std::string name = s.value("name", "");
    klab::files::write_atomic(site / "sweeps" / (name + ".html"), klab::report::render_page(klab::report::sweep_data(out, name), inner));
    ++sweeps;
  }
  std::cout << "wrote " << (site / "index.html").string() << " (" << runs << " run page(s), " << sweeps
            << " sweep page(s)); open it in a browser, no network needed\n";
  return klab::cli::kExitOk;
}

int run(int argc, char** argv) {
  po::options_description options("report (--site DIR | --index | --run RUN | --sweep RECORD | --compare A,B) [-o FILE]");
  options.add_options()
      ("help,h", "show this help")
      ("output-dir", po::value<std::string>()->default_value("out"), "where the runs are")
      ("site", po::value<std::string>(), "write every page (index, runs, sweeps) into this folder")
      ("index", "the runs index")
      ("run", po::value<std::string>(), "one run (its folder name under --output-dir)")
      ("sweep", po::value<std::string>(), "one sweep (its record's name under --output-dir/.sweeps)")
      ("compare", po::value<std::string>(), "two runs or more, comma-separated")
      ("output,o", po::value<std::string>(), "the HTML file to write (one page)")
      ("force", "replace an existing -o file");
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm)) return klab::cli::kExitOk;
  const int chosen = static_cast<int>(vm.count("site") + vm.count("index") + vm.count("run") + vm.count("sweep") + vm.count("compare"));
  if (chosen != 1) throw klab::cli::UsageError("give one of --site DIR, --index, --run RUN, --sweep RECORD, --compare A,B");
  const fs::path out = vm["output-dir"].as<std::string>();
  std::error_code ec;
  if (!fs::is_directory(out, ec)) throw klab::IoError(out.string() + ": no such output folder (--output-dir)");
  if (vm.count("site")) {
    if (vm.count("output")) throw klab::cli::UsageError("--site writes a folder: -o is for one page");
    return write_site(out, vm["site"].as<std::string>());
  }
  if (!vm.count("output")) throw klab::cli::UsageError("-o FILE: where to write the page");
  nlohmann::json data;
  if (vm.count("index")) data = klab::report::index_data(out);
  if (vm.count("run")) data = klab::report::run_data(out, vm["run"].as<std::string>());
  if (vm.count("sweep")) data = klab::report::sweep_data(out, vm["sweep"].as<std::string>());
  if (vm.count("compare")) data = klab::report::compare_data(out, klab::report::split_names(vm["compare"].as<std::string>()));
  const fs::path file = vm["output"].as<std::string>();
  write_page(file, data, {}, vm.count("force") > 0);
  std::cout << "wrote " << file.string() << "; open it in a browser, no network needed\n";
  return klab::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  return klab::cli::guarded_main("report", [&] { return run(argc, argv); });
}
