// etna::dist: data-parallel training over MPI (and NCCL, dist/nccl_group.hpp, from .cu files):
// process groups, collectives, DistributedDataParallel, rank-0 helpers, job-wide failure.
// Not part of etna.hpp: it needs <mpi.h>; link the program with MPI::MPI_CXX.
#pragma once

#include "etna/dist/collectives.hpp"
#include "etna/dist/ddp.hpp"
#include "etna/dist/launch.hpp"
#include "etna/dist/main_process.hpp"
#include "etna/dist/mpi_group.hpp"
#include "etna/dist/process_group.hpp"
