// Saving and loading in one include (namespace etna::io): the safetensors file format (reader,
// writer, dtypes, F16/BF16 conversion, atomic file replacement) and what is built on it.
#pragma once

#include "etna/io/atomic_file.hpp"
#include "etna/io/checkpoint.hpp"
#include "etna/io/dtype.hpp"
#include "etna/io/half.hpp"
#include "etna/io/mapped_file.hpp"
#include "etna/io/module_io.hpp"
#include "etna/io/safetensors_reader.hpp"
#include "etna/io/safetensors_writer.hpp"
