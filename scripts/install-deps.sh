#!/usr/bin/env bash
# Installs every Debian/Ubuntu package AxialFold needs to build, test and run (as root, or with sudo).
# Usage: scripts/install-deps.sh            (build + test + run dependencies)
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git
  libopenblas-openmp-dev            # CPU reference backend GEMMs (OpenMP build: safe inside our OpenMP regions)
  libopenmpi-dev openmpi-bin        # MPI ranks (AXF_MPI)
  libhdf5-openmpi-dev hdf5-tools    # parallel HDF5 (features, results, checkpoints); h5ls/h5dump
  libboost-program-options-dev      # command line and config files
  libgtest-dev libgmock-dev         # tests
  zlib1g-dev                        # deflate-compressed .npz files
  gemmi-dev tao-pegtl-dev           # mmCIF reading (gemmi's headers; its CIF parser needs PEGTL, not a declared dependency)
  python3 python3-gemmi             # tests: structure files are read back with gemmi
  hmmer hhsuite kalign mmseqs2      # MSA stage search tools (jackhmmer, hmmsearch; hhblits, hhsearch; MMseqs2)
)

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
