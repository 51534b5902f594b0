#!/usr/bin/env bash
# On a GPU machine: issue 6's measurable targets with an already-built BUILD_DIR (logs to $OUT).
#  1. chunking against the unchunked run (bench --compare-unchunked): L=1024 bf16, full model_1_ptm settings, the
#     chunk sizes `plan --chunking auto` picks for 2.5 GiB (rows 256) and 2 GiB (rows 128, channel blocks of 32)
#     against 3.1 GiB unchunked, and rows 128 alone (time within 15%), and
#     L=512 fp32 with every chunk at 16 (max atom deviation within 1e-3 Angstrom);
#  2. L=1200 fp32 peak memory with every chunk at 8 and channel blocks of 8 (target <= 3 GiB), reduced depth as in
#     scripts/gpu-long-sequence.sh (the peak is reached inside one block);
#  3. with the step l8000: L=8000 fp32 reduced depth with the pair offloaded during the templates (minutes).
# Usage: scripts/gpu-memory-targets.sh BUILD_DIR [STEPS]   (STEPS: a subset of "chunking fp32 l1200 l8000")
set -uo pipefail
build="$1" steps="${2:-chunking fp32 l1200}"
out="${OUT:-gpu-memory-targets-out}"
mkdir -p "$out"
bin="$build/axialfold"
chunks() {
  echo "--chunk-msa-rows $1 --chunk-msa-columns $1 --chunk-pair-rows $1 --chunk-opm-rows $1" \
    "--chunk-template-rows $1 --chunk-triangle-channels $2"
}
for step in $steps; do
  case "$step" in
    chunking)  # the `plan --length 1024 --precision bf16 --chunking auto` choices for 2.5 and 2 GiB
      "$bin" bench --device cuda --model --precision bf16 --lengths 1024 $(chunks 256 0) --compare-unchunked \
        > "$out/chunking-bf16-1024-rows256.txt" 2>&1
      "$bin" bench --device cuda --model --precision bf16 --lengths 1024 $(chunks 128 0) --compare-unchunked \
        > "$out/chunking-bf16-1024-rows128.txt" 2>&1
      "$bin" bench --device cuda --model --precision bf16 --lengths 1024 $(chunks 128 32) --compare-unchunked \
        > "$out/chunking-bf16-1024-rows128-ch32.txt" 2>&1 ;;
    fp32) "$bin" bench --device cuda --model --precision fp32 --lengths 512 $(chunks 16 16) --compare-unchunked \
            > "$out/chunking-fp32-512.txt" 2>&1 ;;
    l1200) bash "$(dirname "$0")/gpu-long-sequence.sh" "$build" 1200 fp32 8 8 > "$out/l1200-fp32.txt" 2>&1 ;;
    l8000) bash "$(dirname "$0")/gpu-long-sequence.sh" "$build" 8000 fp32 512 8 --offload-pair \
             > "$out/l8000-fp32.txt" 2>&1 ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
  echo "== $step exit $?"
done
grep -hE "^# Chunking|^# Memory|^ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ +[0-9]+ " "$out"/*.txt
