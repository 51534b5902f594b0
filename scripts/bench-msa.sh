#!/usr/bin/env bash
# Benchmark of the MSA stage's task scheduling: a generated family database (TARGETS family seeds as targets,
# three searches per target: jackhmmer UniRef90- and MGnify-like FASTA databases, hmmsearch templates
# against a pdb_seqres-like one), run with 1 rank and with RANKS ranks. Prints one table: ranks, threads per
# tool, tasks, wall seconds, tasks per second, speedup over 1 rank, and #wrong (output files that differ
# from the 1-rank run; always checked).
# Usage: scripts/bench-msa.sh [build-dir]
#   Environment: TARGETS (40), SEQS (4000: sequences of the largest database), RANKS (2), SHARDS (1),
#                WORK (a fresh temporary folder), KEEP=1 keeps it.
set -euo pipefail
cd "$(dirname "$0")/.."
build="${1:-build}"
bin="$build/axialfold"
[ -x "$bin" ] || { echo "bench-msa: $bin not found (build first: cmake --build $build)"; exit 1; }
for tool in jackhmmer hmmsearch hmmbuild mpirun python3; do
  command -v "$tool" >/dev/null || { echo "bench-msa: $tool not found (scripts/install-deps.sh)"; exit 1; }
done
TARGETS=${TARGETS:-40}
SEQS=${SEQS:-4000}
RANKS=${RANKS:-2}
SHARDS=${SHARDS:-1}
WORK=${WORK:-$(mktemp -d /tmp/axf-bench-msa.XXXXXX)}
mkdir -p "$WORK"
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$WORK"' EXIT

# Families of mutated homologs (substitutions, insertions, deletions at 10-55 %) among random sequences.
python3 - "$WORK" "$TARGETS" "$SEQS" <<'EOF'
import random, sys
work, targets, seqs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(2024)
aa = "ACDEFGHIKLMNPQRSTVWY"
def rand(n): return "".join(rng.choice(aa) for _ in range(n))
def mutate(s, rate):
    out = []
    for c in s:
        u = rng.random()
        if u < rate * 0.8: out.append(rng.choice(aa))
        elif u < rate * 0.9: pass
        elif u < rate: out.append(c + rng.choice(aa))
        else: out.append(c)
    return "".join(out)
seeds = [rand(rng.randint(80, 400)) for _ in range(targets)]
with open(f"{work}/targets.fasta", "w") as f:
    for i, s in enumerate(seeds): f.write(f">T{i:03d} benchmark target {i}\n{s}\n")
for name, n, members in (("uniref90", seqs, 25), ("mgnify", seqs * 3 // 4, 15), ("pdb_seqres", seqs // 2, 5)):
    records = [(f"{name}_fam{t}_{m}", mutate(seeds[t], 0.1 + 0.45 * rng.random()))
               for t in range(targets) for m in range(members)]
    records += [(f"{name}_rnd{k}", rand(rng.randint(60, 400))) for k in range(max(0, n - len(records)))]
    rng.shuffle(records)
    with open(f"{work}/{name}.fasta", "w") as f:
        for r, s in records: f.write(f">{r} benchmark sequence\n{s}\n")
EOF
cat > "$WORK/db.cfg" <<EOF
uniref90 = uniref90.fasta
mgnify = mgnify.fasta
pdb_seqres = pdb_seqres.fasta
template_search = hmmsearch
EOF

args=(msa --fasta "$WORK/targets.fasta" --databases "$WORK/db.cfg" --searches uniref90,mgnify,templates
      --shards "$SHARDS")
run() {  # run <label> <output> <command...>: prints the wall seconds of the command
  local label=$1 out=$2; shift 2
  local start end
  start=$(date +%s.%N)
  env -u AXF_LOG_QUIET "$@" --output-dir "$out" > "$WORK/$label.log" 2>&1 || { cat "$WORK/$label.log"; exit 1; }
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
threads_of() { grep -o "[0-9]* tool threads" "$WORK/$1.log" | head -1 | cut -d' ' -f1; }
wrong() {  # output files of $1 that differ from (or are missing in) $2
  local n=0 f
  while IFS= read -r f; do cmp -s "$1/$f" "$2/$f" || n=$((n + 1)); done \
    < <(cd "$1" && find . -path ./.shards -prune -o -type f -print)
  echo "$n"
}
row() {  # row <ranks> <threads> <wall> <wall of 1 rank> <wrong>
  awk -v r="$1" -v t="$2" -v n="$tasks" -v w="$3" -v w1="$4" -v x="$5" \
    'BEGIN { printf "%6d %8d %6d %8.2f %8.2f %8.2f %7d\n", r, t, n, w, n / w, w1 / w, x }'
}

tasks=$((TARGETS * 3))
t1=$(run one "$WORK/out1" "$bin" "${args[@]}")
tr=$(run ranks "$WORK/outR" mpirun -np "$RANKS" --allow-run-as-root --oversubscribe "$bin" "${args[@]}")
wrongR=$(wrong "$WORK/out1" "$WORK/outR")

echo "bench-msa: $TARGETS targets x 3 searches (jackhmmer: uniref90 $SEQS and mgnify $((SEQS * 3 / 4)) sequences;" \
     "hmmbuild + hmmsearch: pdb_seqres $((SEQS / 2)) sequences), shards $SHARDS, $(nproc) cores, load $(cut -d" " -f1 /proc/loadavg), $(date -u +%Y-%m-%d)"
printf "%6s %8s %6s %8s %8s %8s %7s\n" ranks threads tasks wall_s tasks/s speedup '#wrong'
row 1 "$(threads_of one)" "$t1" "$t1" 0
row "$RANKS" "$(threads_of ranks)" "$tr" "$t1" "$wrongR"
grep "^msa summary" -A $((RANKS + 1)) "$WORK/ranks.log" | sed 's/^/  /'
[ "$wrongR" -eq 0 ]
