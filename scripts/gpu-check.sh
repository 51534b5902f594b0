#!/usr/bin/env bash
# On a GPU machine (see ../shared/device/README.md): build with CUDA, run the GPU tests (CUDA ops and the model
# against the CPU backend), then time `axialfold predict --device cuda` on the embedded example with full
# model_1_ptm settings. Results go to $OUT (or ./gpu-check-out). Usage: scripts/gpu-check.sh [archs]
set -euo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-check-out}"
mkdir -p "$out"
# At most 8 files come back from $OUT: gpu.txt, build.log, ctest-gpu.log, model-vs-cpu.txt, predict-{1,2}.{txt,log}.
archs="${1:-90a}"
if [ -f .gpu-deps/setup.sh ]; then source .gpu-deps/setup.sh; fi
export NCCL_NVLS_ENABLE=0 AXF_LOG_QUIET=1 OMP_WAIT_POLICY=passive
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DAXF_CUDA=ON -DAXF_CUDA_ARCHS="$archs" > build-gpu-configure.log
cmake --build build-gpu -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
ctest --test-dir build-gpu -L gpu --output-on-failure -j 1 > "$out/ctest-gpu.log" 2>&1 || true
tail -4 "$out/ctest-gpu.log"
build-gpu/tests/test_gpu --gtest_filter='CudaTrunk.*' 2>&1 | grep -E "max|OK|FAILED" | tee "$out/model-vs-cpu.txt"
ctest --test-dir build-gpu -LE gpu -j "$(nproc)" > build-gpu/ctest-cpu.log 2>&1 || true
tail -2 build-gpu/ctest-cpu.log
unset AXF_LOG_QUIET
build-gpu/axialfold make-params --preset model_1_ptm --seed 0 --out build-gpu/params_random.npz 2> /dev/null
for run in 1 2; do
  build-gpu/axialfold predict --device cuda --preset model_1_ptm --params build-gpu/params_random.npz \
    --features examples/query73/model_inputs.npz --output-dir build-gpu/query73 > "$out/predict-$run.txt" 2> "$out/predict-$run.log"
done
echo "== predict --device cuda, query73 (L=73, 512 clusters, 1024 extra, 4 recycles), second run =="
cat "$out/predict-2.txt"
