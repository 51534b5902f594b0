#!/usr/bin/env bash
# Configures, builds and runs the test suite (CPU; GPU tests skip themselves without a GPU).
# Usage: scripts/run-tests.sh [build-dir]    Environment: AXF_CUDA=ON|OFF (default: ON when nvcc is found)
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
args=(-S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release)
if [ -n "${AXF_CUDA:-}" ]; then args+=("-DAXF_CUDA=${AXF_CUDA}"); fi
if [ -z "${CUDACXX:-}" ] && [ -x /usr/local/cuda/bin/nvcc ]; then export CUDACXX=/usr/local/cuda/bin/nvcc; fi
cmake "${args[@]}"
cmake --build "$build" -j "$(nproc)"
export AXF_LOG_QUIET=1
# Passive OpenMP waiting: ctest runs test processes side by side, and spinning threads would starve each other.
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" --timeout 600
