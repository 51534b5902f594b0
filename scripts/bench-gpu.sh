#!/usr/bin/env bash
# On a GPU machine (see ../shared/device/README.md): build axialfold for sm_90a, then run `axialfold bench --device
# cuda` (measured GEMM/copy ceilings, every op, every Evoformer module, the full model_1_ptm model with 48 blocks,
# 4 templates, 512 clusters, 1024 extra sequences and 3 recycles) within a time budget. The tables print last;
# bench.txt (tables), bench.json (every number), bench.log (progress) and build.log go to $OUT.
#
# Usage: scripts/bench-gpu.sh [budget_seconds]      (default 540: the whole script, build included)
# Environment: BENCH_LENGTHS (default 256,512,1024), BENCH_ARCHS (default 90a), BENCH_PRECISION (fp32, tf32 or
# bf16; default bf16), BENCH_SECTIONS (default "--ops --modules --model"), BENCH_ARGS (more bench options;
# default "--repeat 5 --warmup 1" to fit the budget; set it to "" for the command's defaults of 10 and 2)
# Lengths run in order; an item whose estimated time ((L/L_prev)^2.5 times the previous one) does not fit what is
# left of the budget is skipped and shown as skipped; `timeout` guards the rest.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
budget="${1:-540}"
lengths="${BENCH_LENGTHS:-256,512,1024}"
archs="${BENCH_ARCHS:-90a}"
out="${OUT:-bench-gpu-out}"
mkdir -p "$out"
if [ -f .gpu-deps/setup.sh ]; then source .gpu-deps/setup.sh; fi
export NCCL_NVLS_ENABLE=0 OMP_WAIT_POLICY=passive
# The card as found (never changed): name, memory, driver, clocks and power limit.
nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu \
  --format=csv | tee "$out/gpu.txt"

build=build-bench-gpu
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAXF_CUDA=ON -DAXF_CUDA_ARCHS="$archs" -DAXF_TESTS=OFF \
  > "$out/configure.log" 2>&1 || { tail -30 "$out/configure.log"; exit 1; }
cmake --build "$build" -j "$(nproc)" --target axialfold > "$out/build.log" 2>&1 || { tail -50 "$out/build.log"; exit 1; }
echo "build: $(( $(date +%s) - start )) s"

left=$(( budget - ($(date +%s) - start) ))
if [ "$left" -lt 60 ]; then
  echo "only ${left} s left of the ${budget} s budget after the build: not running the benchmark"
  exit 1
fi
# The bench's own budget leaves 20 s for teardown; timeout is the hard stop (the JSON is rewritten after every
# item, so a stopped run still leaves its numbers).
rc=0
timeout --kill-after=10 "$(( left - 5 ))" "$build/axialfold" bench --device cuda ${BENCH_SECTIONS:---ops --modules --model} \
  --precision "${BENCH_PRECISION:-bf16}" --lengths "$lengths" --time-budget "$(( left - 25 ))" --json "$out/bench.json" ${BENCH_ARGS---repeat 5 --warmup 1} \
  > "$out/bench.txt" 2> "$out/bench.log" || rc=$?
echo "bench exit code ${rc} after $(( $(date +%s) - start )) s (124: stopped by timeout)" | tee "$out/status.txt"
tail -5 "$out/bench.log"
echo
cat "$out/bench.txt"
exit "$rc"
