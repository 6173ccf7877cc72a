// runs/files.h — writing run files so that a crash never leaves a half-written one.
//
// Every JSON file of a run is written to a temporary file in the same folder, fsynced, renamed
// over the target and the folder fsynced: a reader (or a resume after kill -9) sees the old
// file or the new one, never a mix. Times are local wall-clock, as the output standard shows.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

namespace klab::files {

void write_atomic(const std::filesystem::path& path, const std::string& content);
void write_json(const std::filesystem::path& path, const nlohmann::json& value);
// Throws IoError naming the file when it is missing or not valid JSON.
nlohmann::json read_json(const std::filesystem::path& path);
// j[key] when it is a string, else `fallback` (missing, null, or a hand-edited wrong type such as
// "status": 5): run files are read without ever throwing on a value's type.
std::string text_or(const nlohmann::json& j, const char* key, const std::string& fallback = "");
std::string read_text(const std::filesystem::path& path);
void fsync_dir(const std::filesystem::path& dir);
// CRC-32 (zlib's) of a file's bytes: how a checkpoint's weights are checked before a resume
// trusts them. Throws IoError when the file cannot be read.
std::uint32_t crc32_of_file(const std::filesystem::path& path);

// A test seam for crash-safety tests: when the environment variable KLAB_CRASH_AT is `point`
// (its first time) or `point:N` (its N-th time in this process), the process kills itself with
// SIGKILL right there, as kill -9 or a power cut would. With KLAB_CRASH_TRACE=FILE every point
// reached is appended to FILE as "point N", so a campaign can list where a run may be cut.
// Points: file-written (any run file complete under its temporary name, not yet renamed),
// file-renamed (in place, its folder not yet synced), checkpoint-written (a new checkpoint
// complete under its temporary folder name), checkpoint-exchanged (swapped into place, the old
// one not yet removed), model-saved (the final weights written, model/'s other files not yet).
void crash_point(const char* point);

// "2025-01-19T14:30:25", "2025-01-19 14:30:25", "20250119_143025" for now.
std::string iso_now();
std::string log_now();
std::string compact_now();

// A loss or metric as training.log writes it: fixed, six decimals ("0.012345").
std::string log_number(double v);

}  // namespace klab::files
