// The runner of test_dist: the Catch2 session inside dist::init()/finalize(), so every test
// case runs as one rank of the job mpirun started (or in a world of one without mpirun).
// Every rank runs the same test cases in the same order: a case's collectives match across
// ranks. A short timeout turns a rank that fails half-way (and leaves the others waiting in a
// collective) into a dist_error instead of a hang.
#define CATCH_CONFIG_RUNNER
#include <catch2/catch.hpp>
#include <chrono>

#include "etna/dist/mpi_group.hpp"

int main(int argc, char** argv) {
  etna::dist::init({.timeout = std::chrono::seconds(60)});
  const int failed = Catch::Session().run(argc, argv);
  etna::dist::finalize();
  return failed == 0 ? 0 : 1;
}
