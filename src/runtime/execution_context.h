// ExecutionContext: everything a model module needs besides its parameters and activations — the backend,
// the communicator (one DAP group), the activation dtype, explicit per-module chunk sizes and the stage timers.
#pragma once

#include <algorithm>
#include <chrono>
#include <string>
#include <utility>
#include <cstdint>

#include "backend/backend.h"
#include "parallel/communicator.h"
#include "runtime/timers.h"

namespace axf::runtime {

// Chunk sizes along each module's independent axis; 0 means "whole axis in one piece". Never a hidden global:
// they come from the run config (or, later, the memory planner).
struct ChunkConfig {
  int64_t msa_rows = 0;        // MSA row attention and MSA transition: sequences per chunk
  int64_t msa_columns = 0;     // MSA column (global) attention: residues per chunk
  int64_t pair_rows = 0;       // triangle attention, triangle multiplication output, pair transition: rows per chunk
  int64_t triangle_channels = 0;  // triangle multiplication: channels of the [c, L, L] projections alive at once
  int64_t opm_rows = 0;        // outer product mean: output rows per chunk
  int64_t template_rows = 0;   // template pair features and pointwise attention: rows per chunk
  // Streamed templates (no template cache) only: the pair's contents wait in host memory during the template stack
  // and its device buffer holds the template representation and the softmax accumulator (template_embedding.cpp).
  bool offload_pair = false;
};

// CUDA graphs for the repeated stacks (the extra-MSA and Evoformer stacks, runtime/recorded_regions.h): Auto
// considers them for sequences of up to kGraphAutoMaxResidues residues with at least kAutoRecordRunsAhead passes
// after the one that records (the second), and records a stack whose first run was launch-bound; On records
// whenever it can.
enum class GraphMode { Off, On, Auto };
constexpr int64_t kGraphAutoMaxResidues = 384;
constexpr int kAutoRecordRunsAhead = 16;
// Whether a prediction of L residues and `passes` recycling passes records its stacks (and so keeps their buffers
// from pass to pass), on a backend that can record or not.
inline bool records_stacks(GraphMode mode, bool can_record, int64_t L, int passes) {
  if (!can_record || passes < 2) return false;
  return mode == GraphMode::On ||
         (mode == GraphMode::Auto && L <= kGraphAutoMaxResidues && passes - 2 >= kAutoRecordRunsAhead);
}

inline int64_t chunk_length(int64_t configured, int64_t total) {
  return configured <= 0 ? std::max<int64_t>(total, 1) : std::min(configured, std::max<int64_t>(total, 1));
}

class ExecutionContext {
 public:
  ExecutionContext(backend::Backend& backend, parallel::Communicator& comm, ChunkConfig chunks = {})
      : backend_(backend), comm_(comm), chunks_(chunks) {}

  backend::Backend& backend() const { return backend_; }
  parallel::Communicator& comm() const { return comm_; }
  const ChunkConfig& chunks() const { return chunks_; }
  void set_chunks(const ChunkConfig& c) { chunks_ = c; }
  // dtype of the trunk's activations (MSA, extra MSA, pair and their temporaries): F32, or BF16 on backends that
  // compute in bf16 (fp32 accumulation and statistics). Masks, the structure module (but for its normalised pair,
  // in this dtype too) and outputs stay fp32.
  core::DType dtype() const { return dtype_; }
  void set_dtype(core::DType d) { dtype_ = d; }
  Timers& timers() { return timers_; }
  GraphMode graphs() const { return graphs_; }
  void set_graphs(GraphMode mode) { graphs_ = mode; }
  // Whether the stacks of a prediction are recorded and replayed (the mode, and a backend that can record).
  bool record_stacks(int64_t L, int passes) const { return records_stacks(graphs_, backend_.can_record(), L, passes); }

 private:
  backend::Backend& backend_;
  parallel::Communicator& comm_;
  ChunkConfig chunks_;
  core::DType dtype_ = core::DType::F32;
  GraphMode graphs_ = GraphMode::Auto;
  Timers timers_;
};

// Times a stage of device work: waits for the backend's queued work at the start and at the end, so the stage's
// time is its own even on asynchronous (CUDA) backends, and adds it to the context's timers.
class StageTimer {
 public:
  StageTimer(ExecutionContext& ctx, std::string stage) : ctx_(ctx), stage_(std::move(stage)) {
    ctx_.backend().synchronize();
    start_ = std::chrono::steady_clock::now();
  }
  ~StageTimer() { ctx_.timers().add(stage_, seconds()); }
  StageTimer(const StageTimer&) = delete;
  StageTimer& operator=(const StageTimer&) = delete;
  // Seconds so far, after waiting for the queued work.
  double seconds() const {
    ctx_.backend().synchronize();
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

 private:
  ExecutionContext& ctx_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
};

// Calls fn(begin, end) over [0, total) in pieces of chunk_length(configured, total).
template <typename Fn>
void for_each_chunk(int64_t total, int64_t configured, Fn&& fn) {
  const int64_t step = chunk_length(configured, total);
  for (int64_t begin = 0; begin < total; begin += step) fn(begin, std::min(total, begin + step));
}

}  // namespace axf::runtime
