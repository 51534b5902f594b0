// main() of the MPI test executables: every rank runs the tests (they are collective), rank 0 prints them,
// and MPI is finalized before exit so mpirun sees a clean end.
#include <gtest/gtest.h>

#include "parallel/communicator.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  if (axf::parallel::world().rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int rc = RUN_ALL_TESTS();
  axf::parallel::finalize_world();
  return rc;
}
