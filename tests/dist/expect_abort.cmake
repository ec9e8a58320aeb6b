# ctest's dist/failing_rank_ends_job and dist/collective_timeout_ends_job: run dist_fail_probe
# MODE as a 2-rank job and pass when the job ends by itself (within 45 s: by MPI_Abort, long
# before a hung rank would), exits non-zero, and stderr matches EXPECT (the failing rank's
# "rank R: <what>" line).
# cmake -DMPIEXEC=mpirun -DNP_FLAG=-n -DPROBE=dist_fail_probe -DMODE=throw -DEXPECT=regex
#       -P expect_abort.cmake
string(TIMESTAMP start "%s")
execute_process(
  COMMAND ${MPIEXEC} --allow-run-as-root --oversubscribe
          --mca btl_vader_single_copy_mechanism none ${NP_FLAG} 2 ${PROBE} ${MODE}
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 45)
string(TIMESTAMP end "%s")
math(EXPR seconds "${end} - ${start}")
message("dist_fail_probe: exit '${rc}' after ${seconds} s\n--- stdout\n${out}--- stderr\n${err}")
if(NOT rc MATCHES "^[0-9]+$")
  message(FATAL_ERROR "the job did not end by itself (${rc}): a failing rank left it hanging")
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "the job exited 0 although rank 1 threw")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr lacks the failing rank's message (${EXPECT})")
endif()
