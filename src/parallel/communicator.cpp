#include "parallel/communicator.h"

#include <cstdlib>
#include <cstring>
#include <mutex>

#include "core/error.h"

#ifdef AXF_WITH_MPI
#include <mpi.h>
#endif

namespace axf::parallel {

void SelfCommunicator::all_to_all(const void* send, void* recv, size_t block_bytes) {
  if (send != recv) std::memcpy(recv, send, block_bytes);
}

void SelfCommunicator::all_gather(const void* send, void* recv, size_t block_bytes) {
  if (send != recv) std::memcpy(recv, send, block_bytes);
}

#ifdef AXF_WITH_MPI
namespace {

#define AXF_MPI_CHECK(call)                                                              \
  do {                                                                                   \
    int rc_ = (call);                                                                    \
    if (rc_ != MPI_SUCCESS) {                                                            \
      char msg_[MPI_MAX_ERROR_STRING];                                                   \
      int len_ = 0;                                                                      \
      MPI_Error_string(rc_, msg_, &len_);                                                \
      AXF_FAIL("MPI call ", #call, " failed: ", std::string(msg_, static_cast<size_t>(len_))); \
    }                                                                                    \
  } while (0)

class MpiCommunicator final : public Communicator {
 public:
  explicit MpiCommunicator(MPI_Comm comm) : comm_(comm) {
    AXF_MPI_CHECK(MPI_Comm_rank(comm_, &rank_));
    AXF_MPI_CHECK(MPI_Comm_size(comm_, &size_));
  }
  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string name() const override { return "mpi"; }
  void barrier() override { AXF_MPI_CHECK(MPI_Barrier(comm_)); }
  void broadcast(void* data, size_t bytes, int root) override {
    AXF_MPI_CHECK(MPI_Bcast(data, static_cast<int>(bytes), MPI_BYTE, root, comm_));
  }
  void all_reduce_sum(float* data, size_t count) override {
    AXF_MPI_CHECK(MPI_Allreduce(MPI_IN_PLACE, data, static_cast<int>(count), MPI_FLOAT, MPI_SUM, comm_));
  }
  void all_to_all(const void* send, void* recv, size_t block_bytes) override {
    AXF_MPI_CHECK(MPI_Alltoall(send, static_cast<int>(block_bytes), MPI_BYTE, recv, static_cast<int>(block_bytes),
                               MPI_BYTE, comm_));
  }
  void all_gather(const void* send, void* recv, size_t block_bytes) override {
    AXF_MPI_CHECK(MPI_Allgather(send, static_cast<int>(block_bytes), MPI_BYTE, recv, static_cast<int>(block_bytes),
                                MPI_BYTE, comm_));
  }

 private:
  MPI_Comm comm_;
  int rank_ = 0, size_ = 1;
};

// Started by a launcher (mpirun/srun) exactly when one of these is set; a plain run never touches MPI.
bool launched_by_mpi() {
  for (const char* v : {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_RANK", "SLURM_STEP_NUM_TASKS"})
    if (std::getenv(v)) return true;
  return false;
}

}  // namespace
#endif

namespace {
std::once_flag g_once;
std::unique_ptr<Communicator> g_world;
bool g_mpi_started = false;
}  // namespace

Communicator& world() {
  std::call_once(g_once, [] {
#ifdef AXF_WITH_MPI
    if (launched_by_mpi()) {
      int initialized = 0;
      MPI_Initialized(&initialized);
      if (!initialized) {
        int provided = 0;
        AXF_MPI_CHECK(MPI_Init_thread(nullptr, nullptr, MPI_THREAD_FUNNELED, &provided));
        g_mpi_started = true;
      }
      g_world = std::make_unique<MpiCommunicator>(MPI_COMM_WORLD);
      return;
    }
#endif
    g_world = std::make_unique<SelfCommunicator>();
  });
  return *g_world;
}

void finalize_world() {
#ifdef AXF_WITH_MPI
  if (g_mpi_started) {
    int finalized = 0;
    MPI_Finalized(&finalized);
    if (!finalized) MPI_Finalize();
    g_mpi_started = false;
  }
#endif
}

}  // namespace axf::parallel
