#include "runs/predictions_file.h"

#include <zlib.h>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <sstream>

#include "klab/error.h"
#include "runs/files.h"

namespace klab {

namespace fs = std::filesystem;

namespace {

constexpr const char* kHeader = "date,symbol,prediction,label,last_close,as_of";
constexpr const char* kHeaderBeforeAsOf = "date,symbol,prediction,label,last_close";  // runs of an older klab

// Text of v with 8 significant digits (returns to ~1e-8 relative, prices to a
// fraction of a fen): std::to_chars, several times faster than printf.
char* put_number(char* at, char* end, double v) {
  return std::to_chars(at, end, v, std::chars_format::general, 8).ptr;
}

std::string gzip(const std::string& text, const fs::path& path) {
  z_stream z{};
  // windowBits 15 + 16: a gzip header, so `gunzip` and pandas read it as such. Level 2: the
  // digits of returns hardly compress at any level; the fast levels keep half a million rows
  // well under a second.
  if (deflateInit2(&z, 2, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    throw IoError(path.string() + ": cannot start compressing");
  }
  std::string out(deflateBound(&z, static_cast<uLong>(text.size())), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  if (rc != Z_STREAM_END) throw IoError(path.string() + ": compression failed");
  return out;
}

std::string gunzip_file(const fs::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw IoError(path.string() + ": cannot read");
  std::string text;
  char buf[1 << 16];
  int n = 0;
  while ((n = gzread(f, buf, sizeof buf)) > 0) text.append(buf, static_cast<std::size_t>(n));
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw IoError(path.string() + ": not a valid gzip file");
  return text;
}

}  // namespace

fs::path write_predictions(const fs::path& results_dir, const Predictions& predictions,
                           bool several_symbols) {
  if (!several_symbols) {
    nlohmann::json rows = nlohmann::json::array();
    for (const auto& p : predictions) {
      rows.push_back({{"date", p.date}, {"symbol", p.symbol}, {"actual", p.label}, {"predicted", p.prediction},
                      {"last_close", p.last_close}});
    }
    const fs::path path = results_dir / kPredictionsJson;
    files::write_json(path, rows);
    return path;
  }
  std::string text = std::string(kHeader) + "\n";
  text.reserve(predictions.size() * 56 + text.size());
  char line[160];
  for (const auto& p : predictions) {
    char* at = line;
    char* const end = line + sizeof line;
    auto put_text = [&](const std::string& t) {
      const std::size_t n = std::min(t.size(), static_cast<std::size_t>(end - at - 1));
      std::memcpy(at, t.data(), n);
      at += n;
      *at++ = ',';
    };
    put_text(p.date);
    put_text(p.symbol);
    at = put_number(at, end, p.predicted_return());
    *at++ = ',';
    at = put_number(at, end, p.label_return());
    *at++ = ',';
    at = put_number(at, end, p.last_close);
    *at++ = ',';
    put_text(p.as_of);
    at[-1] = '\n';
    text.append(line, static_cast<std::size_t>(at - line));
  }
  const fs::path path = results_dir / kPredictionsCsvGz;
  files::write_atomic(path, gzip(text, path));
  return path;
}

Predictions read_predictions(const fs::path& run_dir) {
  Predictions out;
  const fs::path gz = run_dir / "results" / kPredictionsCsvGz, json = run_dir / "results" / kPredictionsJson;
  if (fs::exists(gz)) {
    std::istringstream in(gunzip_file(gz));
    std::string line;
    if (!std::getline(in, line) || (line != kHeader && line != kHeaderBeforeAsOf)) {
      throw IoError(gz.string() + ": not klab's predictions header");
    }
    const std::size_t fields = line == kHeader ? 6 : 5;
    for (std::size_t no = 2; std::getline(in, line); ++no) {
      std::vector<std::string> f;
      std::stringstream cells(line);
      for (std::string c; std::getline(cells, c, ',');) f.push_back(c);
      try {
        if (f.size() != fields) throw std::invalid_argument("fields");
        const double last = std::stod(f[4]), predicted = std::stod(f[2]), label = std::stod(f[3]);
        out.emplace_back(f[0], f[1], last * (1.0 + predicted), last * (1.0 + label), last);
        out.back().predicted_target = predicted;  // the file's numbers, as written
        out.back().label_target = label;
        if (fields == 6) out.back().as_of = f[5];
      } catch (const std::exception&) {
        throw IoError(gz.string() + ":" + std::to_string(no) + ": malformed row");
      }
    }
    return out;
  }
  if (!fs::exists(json)) throw IoError("run " + run_dir.filename().string() + ": no results/predictions file");
  const auto rows = files::read_json(json);
  try {
    for (const auto& r : rows) {
      out.emplace_back(r.at("date").get<std::string>(), r.at("symbol").get<std::string>(),
                        r.at("predicted").get<double>(), r.at("actual").get<double>(), r.at("last_close").get<double>());
    }
  } catch (const nlohmann::json::exception& e) {
    throw IoError(json.string() + ": malformed: " + e.what());
  }
  return out;
}

}  // namespace klab
