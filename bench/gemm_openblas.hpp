// OpenBLAS declarations for bench/gemm_bench.cpp: cblas plus the thread-count and version
// entry points, which Debian's generic cblas.h does not always declare.
#pragma once

#include <cblas.h>

#include <string>

extern "C" {
void openblas_set_num_threads(int num_threads);
char* openblas_get_config(void);
}

// "openblas-0.3.21" from the library's own config string ("OpenBLAS 0.3.21 ...").
inline std::string openblas_version_name() {
  const std::string config = openblas_get_config();
  const auto space = config.find(' ');
  const auto end = config.find(' ', space + 1);
  if (space == std::string::npos) return "openblas";
  return "openblas-" + config.substr(space + 1, end - space - 1);
}
