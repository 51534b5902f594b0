#!/usr/bin/env bash
# On a GPU machine, one call: build (sm_90a), every GPU test (the attention tests again with every flash launch on
# one and on two 64-query slabs, AXF_FLASH_SLABS=1/2; by default two with a bias, one without), one Evoformer block,
# the full model_1_ptm model (4 passes) at L=256..2048 in bf16, then the reduced-depth long-sequence fit check
# (scripts/gpu-long-sequence.sh). Logs go to $OUT; a short table prints last.
# Usage: scripts/gpu-full-check.sh [LONG_LENGTH] [LONG_ROWS] [LONG_CHANNELS]   (default 10000 32 8; 0 skips)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-gpu-full-check-out}"
mkdir -p "$out"
if [ -f .gpu-deps/setup.sh ]; then source .gpu-deps/setup.sh > /dev/null; fi
export NCCL_NVLS_ENABLE=0 OMP_WAIT_POLICY=passive AXF_LOG_QUIET=1
build=/tmp/axf-build
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu.txt"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAXF_CUDA=ON -DAXF_CUDA_ARCHS=90a > /dev/null &&
  cmake --build "$build" -j "$(nproc)" > "$out/build.log" 2>&1 || { tail -30 "$out/build.log"; exit 1; }
"$build/tests/test_gpu" --gtest_brief=1 > "$out/test-gpu.txt" 2>&1
for s in 1 2; do
  AXF_FLASH_SLABS=$s "$build/tests/test_gpu" --gtest_brief=1 --gtest_filter='*ttention*' > "$out/test-gpu-slabs$s.txt" 2>&1
done
"$build/axialfold" bench --device cuda --modules --precision bf16 --lengths 1024 --repeat 3 --warmup 1 \
  > "$out/modules.txt" 2> /dev/null
block=$(awk '/evoformer block/ {print $8}' "$out/modules.txt")
"$build/axialfold" bench --device cuda --model --precision bf16 --lengths 256,512,1024,2048 \
  > "$out/model.txt" 2> "$out/model.log"
long="${1:-10000}"
if [ "$long" != 0 ]; then
  bash scripts/gpu-long-sequence.sh "$build" "$long" bf16 "${2:-32}" "${3:-8}" \
    > "$out/long.txt" 2> "$out/long.log"
  echo "long-sequence exit: $?"
fi
echo "== GPU tests: $(tail -3 "$out/test-gpu.txt" | tr '\n' ' ')"
echo "== attention tests, one slab: $(tail -3 "$out/test-gpu-slabs1.txt" | tr '\n' ' ')"
echo "== attention tests, two slabs: $(tail -3 "$out/test-gpu-slabs2.txt" | tr '\n' ' ')"
echo "== Evoformer block L=1024 bf16: ${block} ms"
# The model rows (L S E T blocks passes time ...), the memory lines and the long run's stages.
grep -E "^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ |^# Memory" "$out/model.txt" | head -12
if [ -f "$out/long.txt" ]; then
  grep -E "^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ |^# Memory|^  [a-zA-Z-]+ .* [0-9.]+%$" "$out/long.txt" | head -14
fi
