// Communicator: the collective operations the runtime needs, over host buffers. `SelfCommunicator` is the
// one-rank case; `MpiCommunicator` wraps an MPI communicator. DAP (after FastFold) builds its row/column
// all-to-all and gathers on this interface; an NCCL implementation for device buffers follows with DAP.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace axf::parallel {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string name() const = 0;
  virtual void barrier() = 0;
  virtual void broadcast(void* data, size_t bytes, int root) = 0;
  virtual void all_reduce_sum(float* data, size_t count) = 0;
  // Rank r receives block r of every rank's send buffer: send/recv hold size() blocks of block_bytes.
  virtual void all_to_all(const void* send, void* recv, size_t block_bytes) = 0;
  virtual void all_gather(const void* send, void* recv, size_t block_bytes) = 0;
};

class SelfCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  std::string name() const override { return "self"; }
  void barrier() override {}
  void broadcast(void*, size_t, int) override {}
  void all_reduce_sum(float*, size_t) override {}
  void all_to_all(const void* send, void* recv, size_t block_bytes) override;
  void all_gather(const void* send, void* recv, size_t block_bytes) override;
};

// World communicator of this process: MPI_COMM_WORLD when built with MPI and started under mpirun, else self.
// Initialises MPI on first use when available; finalize_world() ends it.
Communicator& world();
void finalize_world();

}  // namespace axf::parallel
