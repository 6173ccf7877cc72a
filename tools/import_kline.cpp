// import_kline — loads daily-bar CSV files (邢不行, Tushare pro.daily, AkShare stock_zh_a_hist;
// plain or .csv.gz) and Qlib data directories into SQLite or MySQL/MariaDB with klab's schema.
// Idempotent: re-importing changes nothing.
//
//   import_kline --db sqlite:data/kline.db ../shared/data/ashare-daily
//   import_kline --db sqlite:data/kline.db ~/.qlib/qlib_data/cn_data      (a Qlib directory)
//   KLAB_DB_PASSWORD=... import_kline --db mysql://quant@127.0.0.1:3306/market files...
#include <malloc.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <iostream>

#include <boost/program_options.hpp>
#include <nlohmann/json.hpp>

#include "cli/options.h"
#include "data/importer.h"
#include "data/qlib_dir.h"

namespace po = boost::program_options;
namespace fs = std::filesystem;

namespace {

std::vector<fs::path> expand_inputs(const std::vector<std::string>& inputs) {
  std::vector<fs::path> files;
  for (const auto& input : inputs) {
    if (fs::is_directory(input) && klab::is_qlib_directory(input)) {
      files.emplace_back(input);  // a Qlib data directory: read as a whole
    } else if (fs::is_directory(input)) {
      std::vector<fs::path> found;
      for (const auto& item : fs::directory_iterator(input)) {
        if (klab::is_kline_file(item.path())) found.push_back(item.path());
      }
      std::sort(found.begin(), found.end());
      if (found.empty()) throw klab::cli::UsageError(input + ": no .csv or .csv.gz files in this folder");
      files.insert(files.end(), found.begin(), found.end());
    } else if (fs::is_regular_file(input)) {
      files.emplace_back(input);
    } else {
      throw klab::cli::UsageError(input + ": no such file or folder");
    }
  }
  return files;
}

nlohmann::json counts_json(const klab::ImportCounts& c) {
  return {{"read", c.read},           {"inserted", c.inserted}, {"updated", c.updated},
          {"unchanged", c.unchanged}, {"rejected", c.rejected}};
}

std::string counts_text(const klab::ImportCounts& c) {
  return "read " + std::to_string(c.read) + ", inserted " + std::to_string(c.inserted) +
         ", updated " + std::to_string(c.updated) + ", unchanged " + std::to_string(c.unchanged) +
         ", rejected " + std::to_string(c.rejected);
}

int run(int argc, char** argv) {
  po::options_description options("import_kline --db URL [options] FILE_OR_FOLDER...");
  options.add_options()
      ("help,h", "show this help")
      ("db", po::value<std::string>(), "target: sqlite:PATH (created if missing) or "
                                        "mysql://USER@HOST[:PORT]/DATABASE")
      ("password-env", po::value<std::string>()->default_value("KLAB_DB_PASSWORD"),
       "environment variable holding the MySQL password ('' for none)")
      ("symbol", po::value<std::string>()->default_value(""),
       "symbol for files without a symbol column (default: from the file name)")
      ("show-rejections", po::value<std::size_t>()->default_value(50),
       "rejected rows listed per file (all are counted)")
      ("connections", po::value<std::size_t>()->default_value(2),
       "MySQL: writers, each on its own connection (SQLite has one writer)")
      ("json", "print the report as JSON")
      ("strict", "exit 3 if any row was rejected")
      ("quiet,q", "no progress line")
      ("inputs", po::value<std::vector<std::string>>(), "CSV files or folders of them");
  po::positional_options_description positional;
  positional.add("inputs", -1);
  po::variables_map vm;
  if (!klab::cli::parse_command_line(argc, argv, options, vm, &positional)) return klab::cli::kExitOk;
  if (!vm.count("db")) throw klab::cli::UsageError("--db is required");
  if (!vm.count("inputs")) throw klab::cli::UsageError("no input files");
  const auto files = expand_inputs(vm["inputs"].as<std::vector<std::string>>());
  const bool json = vm.count("json") > 0;
  const std::size_t connections = vm["connections"].as<std::size_t>();
  if (connections == 0) throw klab::cli::UsageError("--connections: must be at least 1");
  const bool show_progress = !vm.count("quiet") && !json && isatty(STDERR_FILENO);

  auto store = klab::open_kline_store(vm["db"].as<std::string>(), vm["password-env"].as<std::string>());
  auto report = klab::import_kline_files(
      *store, files, vm["symbol"].as<std::string>(),
      [&](std::size_t i, std::size_t n, const std::string& path) {
        if (show_progress) {
          std::cerr << "\r\033[K[" << i + 1 << "/" << n << "] " << fs::path(path).filename().string()
                    << std::flush;
        }
      },
      connections);
  if (show_progress) std::cerr << "\r\033[K" << std::flush;

  const std::size_t shown = vm["show-rejections"].as<std::size_t>();
  if (json) {
    nlohmann::json out = {{"target", store->describe()}, {"total", counts_json(report.total)},
                          {"failed_files", report.failed_files}, {"files", nlohmann::json::array()}};
    for (const auto& f : report.files) {
      nlohmann::json item = {{"path", f.path}, {"format", f.format}, {"symbols", f.symbols},
                             {"counts", counts_json(f.counts)}, {"rejections", nlohmann::json::array()}};
      if (!f.error.empty()) item["error"] = f.error;
      for (const auto& r : f.rejections) {
        item["rejections"].push_back({{"line", r.line}, {"reason", r.reason}});
      }
      out["files"].push_back(item);
    }
    std::cout << out.dump(2) << "\n";
  } else {
    for (const auto& f : report.files) {
      if (!f.error.empty()) {
        std::cout << "FAILED " << f.error << "\n";
        continue;
      }
      std::cout << f.path << " (" << f.format << "): " << counts_text(f.counts) << "\n";
      for (std::size_t i = 0; i < f.rejections.size() && i < shown; ++i) {
        const auto& r = f.rejections[i];
        std::cout << "  rejected " << r.file << ":" << r.line << ": " << r.reason << "\n";
      }
      if (f.rejections.size() > shown) {
        std::cout << "  ... and " << f.rejections.size() - shown << " more rejected rows\n";
      }
    }
    std::cout << "total into " << store->describe() << ": " << report.files.size() << " files, "
              << counts_text(report.total);
    if (report.failed_files) std::cout << ", " << report.failed_files << " files failed";
    std::cout << "\n";
  }
  if (report.failed_files > 0) return klab::cli::kExitError;
  if (vm.count("strict") && report.total.rejected > 0) return 3;
  return klab::cli::kExitOk;
}

}  // namespace

int main(int argc, char** argv) {
  // Each file's rows are allocated, handed to the writer and freed, a thousand times over. With
  // glibc's defaults those few MB go back to the kernel after every file (mmap'd blocks, heap
  // trimming) and fault in again: a third of a re-import's time was page faults. Keeping them
  // (bounded by the largest file in flight) made the universe's re-import 1.6x faster
  // (docs/BENCHMARKS.md).
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
  return klab::cli::guarded_main("import_kline", [&] { return run(argc, argv); });
}
