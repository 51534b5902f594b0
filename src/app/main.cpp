// axialfold: one binary, one subcommand per pipeline stage (make-params, predict, ...).
#include <cstdio>
#include <exception>
#include <string>

#include "app/commands.h"
#include "core/error.h"
#include "parallel/communicator.h"

int main(int argc, char** argv) {
  int rc = 0;
  try {
    rc = axf::app::dispatch(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "axialfold: error: %s\n", e.what());
    rc = 1;
  }
  axf::parallel::finalize_world();
  return rc;
}
