#!/usr/bin/env bash
# The main job on the embedded example: builds AxialFold, writes a parameter file in DeepMind's format with
# RANDOM values (make-params), and runs `axialfold predict` on the real model inputs of a 73-residue protein
# (examples/query73: its real UniRef90/BFD/MGnify alignments processed by AlphaFold's pipeline).
# Usage: scripts/run-example.sh [params_model_1_ptm.npz]   (pass DeepMind's file for a real prediction)
set -euo pipefail
cd "$(dirname "$0")/.."
build=build
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release > /dev/null
cmake --build "$build" -j "$(nproc)" --target axialfold
params="${1:-}"
if [ -z "$params" ]; then
  params="$build/example_params_random.npz"
  [ -f "$params" ] || "$build/axialfold" make-params --preset model_1_ptm --seed 0 --out "$params"
  echo "NOTE: using RANDOM parameters: the results are meaningless. For a real prediction download DeepMind's"
  echo "      parameters (alphafold_params_2022-12-06.tar) and run: scripts/run-example.sh params_model_1_ptm.npz"
fi
"$build/axialfold" predict --preset model_1_ptm --params "$params" \
  --features examples/query73/model_inputs.npz --output-dir results/query73 --name query73
ls -l results/query73
