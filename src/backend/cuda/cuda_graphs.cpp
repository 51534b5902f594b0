// Recording and replay of device work as CUDA graphs (Backend::begin_recording .. replay): stream capture on the
// backend's one stream. The recorded operations' temporaries become the graph's own allocations (graph memory
// nodes from cudaMallocAsync/cudaFreeAsync under capture), so a replay allocates and frees them again on the
// device with no host work; CudaContext::capture lets the allocator check that none of them outlives the
// recording and that nothing allocated before it is freed inside it.
#include "backend/cuda/cuda_backend.h"
#include "backend/cuda/cuda_check.h"

namespace axf::backend::cuda {

namespace {

class CudaGraph final : public RecordedWork {
 public:
  CudaGraph(cudaGraph_t graph, cudaStream_t stream) : graph_(graph), stream_(stream) {}
  ~CudaGraph() override {
    if (exec_) cudaGraphExecDestroy(exec_);
    if (graph_) cudaGraphDestroy(graph_);
  }
  CudaGraph(const CudaGraph&) = delete;
  CudaGraph& operator=(const CudaGraph&) = delete;

  void instantiate() { AXF_CUDA_CHECK(cudaGraphInstantiateWithFlags(&exec_, graph_, 0)); }
  cudaGraphExec_t exec() const { return exec_; }
  cudaStream_t stream() const { return stream_; }

 private:
  cudaGraph_t graph_ = nullptr;
  cudaGraphExec_t exec_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

// Ends the context's capture; returns the graph (null when the capture was invalidated, with its error in *status)
// and frees what the capture was not allowed to free. Unless `launching`, the capture is dropped: its buffers still
// in use never become memory, so freeing them is skipped.
cudaGraph_t end_capture(CudaContext& ctx, cudaError_t* status, int64_t* escaped, size_t* freed_from_before,
                        bool launching) {
  cudaGraph_t graph = nullptr;
  *status = cudaStreamEndCapture(ctx.stream, &graph);
  if (*status != cudaSuccess) {
    if (graph) cudaGraphDestroy(graph);
    graph = nullptr;
    (void)cudaGetLastError();
  }
  *escaped = ctx.captured_live;
  const uint64_t ended = ctx.capture;
  ctx.capture = 0;
  ctx.captured_live = 0;
  std::vector<void*> frees;
  frees.swap(ctx.frees_after_capture);
  *freed_from_before = frees.size();
  for (void* p : frees) ctx.free_now(p);
  if (!launching || !graph || *escaped != 0 || *freed_from_before != 0) ctx.dropped_captures.push_back(ended);
  return graph;
}

}  // namespace

void CudaBackend::begin_recording() {
  activate();
  AXF_CHECK(ctx_->capture == 0, "begin_recording: a recording is already under way");
  // Thread-local mode: a call on this thread that cannot be recorded (a synchronisation, a cudaMalloc) fails and
  // invalidates the capture instead of being recorded wrongly.
  AXF_CUDA_CHECK(cudaStreamBeginCapture(ctx_->stream, cudaStreamCaptureModeThreadLocal));
  ctx_->capture = ++ctx_->captures;
  ctx_->captured_live = 0;
}

std::unique_ptr<RecordedWork> CudaBackend::end_recording() {
  activate();
  AXF_CHECK(ctx_->capture != 0, "end_recording without begin_recording");
  cudaError_t status = cudaSuccess;
  int64_t escaped = 0;
  size_t freed_from_before = 0;
  cudaGraph_t graph = end_capture(*ctx_, &status, &escaped, &freed_from_before, true);
  AXF_CHECK(status == cudaSuccess, "recording the CUDA graph failed: ", cudaGetErrorName(status), " (",
            cudaGetErrorString(status), "): an operation that cannot be recorded ran inside it");
  auto work = std::make_unique<CudaGraph>(graph, ctx_->stream);
  AXF_CHECK(escaped == 0, "recording: ", escaped,
            " buffers allocated inside it are still in use after it; a replay cannot hand them out");
  AXF_CHECK(freed_from_before == 0, "recording: ", freed_from_before,
            " buffers allocated before it were freed inside it; a replay would free them again");
  work->instantiate();
  return work;
}

void CudaBackend::abort_recording() {
  if (ctx_->capture == 0) return;
  activate();
  cudaError_t status = cudaSuccess;
  int64_t escaped = 0;
  size_t freed_from_before = 0;
  cudaGraph_t graph = end_capture(*ctx_, &status, &escaped, &freed_from_before, false);
  if (graph) cudaGraphDestroy(graph);
}

void CudaBackend::replay(const RecordedWork& work) {
  const auto* g = dynamic_cast<const CudaGraph*>(&work);
  AXF_CHECK(g && g->stream() == ctx_->stream, "replay: the work was recorded by another backend");
  activate();
  AXF_CUDA_CHECK(cudaGraphLaunch(g->exec(), ctx_->stream));
}

}  // namespace axf::backend::cuda
