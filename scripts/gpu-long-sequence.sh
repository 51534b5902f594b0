#!/usr/bin/env bash
# On a GPU machine: the memory-lean fit check of a long sequence (issue 6) with a reduced-depth model, full
# model_1_ptm widths (1 Evoformer block, 1 extra-MSA block, the template stack streamed over 4 templates, the
# structure module and heads, no recycling): `axialfold bench --model` prints the planner's prediction for the run
# (the peak is reached inside one block, so it holds for the full depth) beside the measured pool peak, and the
# time of every stage. Usage: scripts/gpu-long-sequence.sh BUILD_DIR LENGTH PRECISION ROWS CHANNELS [bench options]
#   e.g. scripts/gpu-long-sequence.sh build-gpu 10000 bf16 32 8   (the `plan --chunking auto` choice for 80 GB)
#        scripts/gpu-long-sequence.sh build-gpu 8000 fp32 512 8 --offload-pair   (the choice for L=8,000 in fp32)
set -euo pipefail
build="$1" length="$2" precision="$3" rows="$4" channels="$5"
shift 5
"$build/axialfold" bench --device cuda --model --precision "$precision" --lengths "$length" --evoformer-blocks 1 \
  --set extra_msa_stack_num_block=1 --recycles 0 --no-template-cache --chunk-msa-rows "$rows" \
  --chunk-msa-columns "$rows" --chunk-pair-rows "$rows" --chunk-opm-rows "$rows" --chunk-template-rows "$rows" \
  --chunk-triangle-channels "$channels" "$@"
