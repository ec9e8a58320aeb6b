// dist_fail_probe: a 2-rank job that goes wrong on purpose; dist::launch must end it with the
// failing rank's message and a non-zero exit instead of leaving the other rank hanging
// (tests/dist/expect_abort.cmake checks the message, ctest's TIMEOUT the "at once").
//   dist_fail_probe throw    rank 1 throws while rank 0 waits in an all_reduce
//   dist_fail_probe timeout  rank 1 never joins the all_reduce: rank 0's collective times out
//                            after 1 s (dist_error), which aborts the job
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>

#include "etna/dist.hpp"
#include "etna/etna.hpp"

namespace et = etna;

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "throw";
  const auto timeout = mode == "timeout" ? std::chrono::seconds(1) : std::chrono::seconds(120);
  return et::dist::launch(
      argc, argv,
      [&](int, char**) {
        auto t = et::ones<float>({4});
        et::dist::all_reduce(t);  // both ranks get here
        if (et::dist::rank() == 1) {
          if (mode == "throw") throw et::value_error("probe failure on purpose");
          std::this_thread::sleep_for(std::chrono::seconds(60));  // a rank that stopped responding
        }
        et::dist::all_reduce(t);  // rank 0 waits here for a rank that is gone
        return 0;
      },
      {.timeout = timeout});
}
