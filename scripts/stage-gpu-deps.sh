#!/usr/bin/env bash
# Stages the packages the GPU machines lack (MPI, HDF5, Boost, GoogleTest, ninja, plus OpenBLAS and gemmi's headers
# that AxialFold needs) into .gpu-deps/ (git-ignored); carry it to the GPU machine and `source .gpu-deps/setup.sh`
# there (after `rm -rf /opt/gpu-deps` on a machine that unpacked an older set).
set -euo pipefail
cd "$(dirname "$0")/.."
GPU_DEPS_EXTRA="libopenblas0-pthread libopenblas-pthread-dev gemmi-dev tao-pegtl-dev" bash ../shared/device/stage.sh
