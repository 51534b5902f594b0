#!/usr/bin/env bash
# On a GPU machine (see ../shared/device/README.md): build with CUDA, run the GPU tests (CUDA ops and the model
# against the CPU backend), the CUDA ops under compute-sanitizer (memcheck, racecheck on the shared-memory
# kernels), then time `axialfold predict --device cuda` on the embedded example with full model_1_ptm settings in
# fp32 and bf16. Results go to $OUT (or ./gpu-check-out). Usage: scripts/gpu-check.sh [archs]
# Environment: GPU_CHECK_SANITIZER=0 skips compute-sanitizer.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check-out}"
mkdir -p "$out"
# At most 8 files come back from $OUT: gpu.txt, build.log, ctest-gpu.log, model-vs-cpu.txt, sanitizer.txt,
# predict-fp32.txt, predict-bf16.txt, predict.log.
archs="${1:-90a}"
if [ -f .gpu-deps/setup.sh ]; then source .gpu-deps/setup.sh; fi
export NCCL_NVLS_ENABLE=0 AXF_LOG_QUIET=1 OMP_WAIT_POLICY=passive
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DAXF_CUDA=ON -DAXF_CUDA_ARCHS="$archs" > build-gpu-configure.log
cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ctest --test-dir build-gpu -L gpu --output-on-failure -j 1 > "$out/ctest-gpu.log" 2>&1 || true
tail -4 "$out/ctest-gpu.log"
build-gpu/tests/test_gpu --gtest_filter='CudaTrunk.*' 2>&1 | grep -E "max|OK|FAILED" | tee "$out/model-vs-cpu.txt"
# The opt-in sm_90a flash kernel (wgmma; AXF_FLASH_WGMMA=1) through the same flash and attention cases.
echo "== AXF_FLASH_WGMMA=1 ==" | tee -a "$out/model-vs-cpu.txt"
AXF_FLASH_WGMMA=1 build-gpu/tests/test_gpu --gtest_filter='*FlashAttention*:*BackendOps*attention*-*Timing*' \
  --gtest_brief=1 2>&1 | tail -3 | tee -a "$out/model-vs-cpu.txt"
# The mma.sync forms of the row-tile kernels that take wgmma on sm_90 (as A100s and consumer cards run them).
echo "== AXF_NO_WGMMA=1 ==" | tee -a "$out/model-vs-cpu.txt"
AXF_NO_WGMMA=1 build-gpu/tests/test_gpu --gtest_filter='*BackendOps*transition*:*BackendOps*triangle_output*' \
  --gtest_brief=1 2>&1 | tail -3 | tee -a "$out/model-vs-cpu.txt"
if [ "${GPU_CHECK_SANITIZER:-1}" != 0 ] && command -v compute-sanitizer > /dev/null; then
  # Every CUDA op case (fp32 and bf16) under memcheck; the shared-memory kernels under racecheck.
  # (API errors unreported: the CudaGraphs tests provoke refused recordings on purpose; an op's API error throws.)
  { compute-sanitizer --tool memcheck --report-api-errors no --error-exitcode 3 build-gpu/tests/test_gpu \
      --gtest_filter='*BackendOps*:*FlashAttention*:*StructureOps*:*FeatureOps*:CudaGraphs.*-*Timing*' --gtest_brief=1 2>&1 | tail -6
    echo "memcheck exit: ${PIPESTATUS[0]}"
    shared_memory_cases='*BackendOps*attention*:*BackendOps*triangle*:*BackendOps*pair_bias*'
    shared_memory_cases+=':*BackendOps*gated_transpose*:*BackendOps*masked_mean*:*BackendOps*transition*'
    compute-sanitizer --tool racecheck --error-exitcode 3 build-gpu/tests/test_gpu \
      --gtest_filter="$shared_memory_cases" --gtest_brief=1 2>&1 | tail -4
    echo "racecheck exit: ${PIPESTATUS[0]}"
    for tool in memcheck racecheck; do
      AXF_FLASH_WGMMA=1 compute-sanitizer --tool "$tool" --error-exitcode 3 build-gpu/tests/test_gpu \
        --gtest_filter='*FlashAttention*-*Timing*' --gtest_brief=1 2>&1 | tail -3
      echo "$tool (AXF_FLASH_WGMMA=1) exit: ${PIPESTATUS[0]}"
    done; } > "$out/sanitizer.txt" 2>&1 || true
  cat "$out/sanitizer.txt"
fi
ctest --test-dir build-gpu -LE gpu -j "$(nproc)" > build-gpu/ctest-cpu.log 2>&1 || true
tail -2 build-gpu/ctest-cpu.log
unset AXF_LOG_QUIET
build-gpu/axialfold make-params --preset model_1_ptm --seed 0 --out build-gpu/params_random.npz 2> /dev/null
for precision in fp32 fp32 bf16; do  # the first run warms up
  build-gpu/axialfold predict --device cuda --precision "$precision" --preset model_1_ptm \
    --params build-gpu/params_random.npz --features examples/query73/model_inputs.npz \
    --output-dir "build-gpu/query73-$precision" > "$out/predict-$precision.txt" 2>> "$out/predict.log"
done
for precision in fp32 bf16; do
  echo "== predict --device cuda --precision $precision, query73 (L=73, 512 clusters, 1024 extra, 4 passes) =="
  cat "$out/predict-$precision.txt"
done
