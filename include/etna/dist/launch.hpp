// What makes a failing rank end the whole job: an exception escaping one rank's main would
// otherwise leave the other ranks waiting in a collective (until the timeout at best).
// dist::launch runs main inside init/finalize and turns an escaping exception into
// "rank R: <what>" on stderr followed by MPI_Abort, which makes mpirun kill every rank.
#pragma once

#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "etna/dist/mpi_group.hpp"  // <mpi.h>, C API only

namespace etna::dist {

// Prints "rank R: <what>" to stderr and aborts every rank of the job with exit code `code`
// (MPI_Abort on MPI_COMM_WORLD; a plain exit when MPI is not running).
[[noreturn]] inline void abort_job(std::string_view what, int code = 1) {
  int world_rank = rank();
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &world_rank);
  std::fprintf(stderr, "rank %d: %.*s\n", world_rank, static_cast<int>(what.size()), what.data());
  std::fflush(stderr);
  if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, code);
  std::_Exit(code);
}

// Runs fn() and aborts the job (abort_job) if it throws; returns fn's result otherwise. For
// code that must not leave the other ranks hanging: `dist::abort_on_error([&] { train(); });`.
template <class F>
decltype(auto) abort_on_error(F&& fn) {
  try {
    return std::invoke(std::forward<F>(fn));
  } catch (const std::exception& e) {
    abort_job(e.what());
  } catch (...) {
    abort_job("unknown exception");
  }
}

// The whole program as one rank: init(options), main_fn(argc, argv) (int or void), finalize().
// An exception from main_fn aborts the job with "rank R: <what>" (exit code 1), so mpirun ends
// every rank instead of hanging.
//   int main(int argc, char** argv) { return et::dist::launch(argc, argv, run); }
template <class F>
int launch(int argc, char** argv, F&& main_fn, InitOptions options = {}) {
  return abort_on_error([&]() -> int {
    init(options);
    int rc = 0;
    if constexpr (std::is_void_v<std::invoke_result_t<F, int, char**>>)
      std::invoke(std::forward<F>(main_fn), argc, argv);
    else
      rc = static_cast<int>(std::invoke(std::forward<F>(main_fn), argc, argv));
    finalize();
    return rc;
  });
}

}  // namespace etna::dist
