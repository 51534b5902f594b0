// Flat HDF5 files of named arrays (plus string attributes on the root group), read into and written from
// NpyArray with the serial HDF5 C API.
#pragma once

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "io/npy.h"

namespace axf::io {

// All datasets directly under `group`, by name, converted to native little-endian types: float16/32/64,
// int8..int64, uint8. Enums of one byte (h5py bools among them) are read as U8. Other types are refused.
std::map<std::string, NpyArray> read_hdf5_arrays(const std::filesystem::path& path, const std::string& group = "/");

// Writes the arrays as datasets (a name with '/' creates intermediate groups) and the string attributes on the
// root group, atomically: to a temporary name first, renamed onto `path` only once complete. Bool arrays are
// stored as h5py's bool enum (int8 FALSE/TRUE), so they read back as U8.
void write_hdf5_arrays(const std::filesystem::path& path, const std::vector<std::pair<std::string, const NpyArray*>>& arrays,
                       const std::map<std::string, std::string>& root_string_attributes = {});

// The scalar string attributes (fixed or variable length) of the root group; other attributes are skipped.
std::map<std::string, std::string> read_hdf5_string_attributes(const std::filesystem::path& path);

// True if `path` is a readable HDF5 file; never throws.
bool is_hdf5_file(const std::filesystem::path& path);

}  // namespace axf::io
