// Portability macros shared by every layer: host/device annotations and inlining hints.
// g++ rejects bare __host__/__device__, so they only appear when nvcc compiles the code.
#pragma once

#if defined(__CUDACC__)
#define ETNA_HD __host__ __device__
#else
#define ETNA_HD
#endif

#if defined(__GNUC__)
#define ETNA_INLINE inline __attribute__((always_inline))
#else
#define ETNA_INLINE inline
#endif
