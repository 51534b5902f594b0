#!/usr/bin/env bash
# On a GPU machine: the time of every kernel of one `axialfold bench --modules` pass (each Evoformer module once,
# then a whole Evoformer and extra-MSA block), read with Nsight Compute (gpu__time_duration; clocks left as found).
# Writes kernels.csv (every launch in order) and prints the kernels by total time. Usage:
#   scripts/gpu-profile.sh BUILD_DIR [LENGTH] [PRECISION] [bench options, e.g. --chunk-pair-rows 128]
#   (defaults 1024, bf16)
set -euo pipefail
build="$1"
length="${2:-1024}"
precision="${3:-bf16}"
shift $(( $# < 3 ? $# : 3 ))
out="${OUT:-gpu-profile-out}"
mkdir -p "$out"
ncu --clock-control none --metrics gpu__time_duration.sum --csv --page raw \
  "$build/axialfold" bench --device cuda --modules --precision "$precision" --lengths "$length" --repeat 1 \
  --warmup 0 "$@" > "$out/ncu-raw.csv" 2> "$out/ncu.log" || { tail -20 "$out/ncu.log"; exit 1; }
python3 - "$out/ncu-raw.csv" "$out/kernels.csv" <<'PY'
import csv, sys, collections
rows = [r for r in csv.reader(open(sys.argv[1])) if r]
hdr = next(i for i, r in enumerate(rows) if "Kernel Name" in r)
h = rows[hdr]
name_i, t_i = h.index("Kernel Name"), h.index("gpu__time_duration.sum")
unit = rows[hdr + 1][t_i]
scale = {"nsecond": 1.0, "ns": 1.0, "usecond": 1e3, "us": 1e3, "msecond": 1e6, "ms": 1e6}.get(unit, 1.0)
print("time unit:", unit)
launches = []
for r in rows[hdr + 1:]:
    try:
        launches.append((r[name_i], float(r[t_i].replace(',', '')) * scale))
    except (ValueError, IndexError):
        continue  # the units row
with open(sys.argv[2], "w") as f:
    w = csv.writer(f)
    w.writerow(["index", "kernel", "ns"])
    for i, (n, t) in enumerate(launches):
        w.writerow([i, n, t])
tot = collections.defaultdict(lambda: [0.0, 0])
for n, t in launches:
    key = n.split("(")[0][:90]
    tot[key][0] += t
    tot[key][1] += 1
total = sum(v[0] for v in tot.values())
print(f"{len(launches)} launches, {total / 1e6:.2f} ms in all")
for k, (t, c) in sorted(tot.items(), key=lambda kv: -kv[1][0])[:40]:
    print(f"{t / 1e6:9.3f} ms {100 * t / total:5.1f}% {c:5d}x  {k}")
PY
