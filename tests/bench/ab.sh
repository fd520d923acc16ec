#!/usr/bin/env bash
# A against B: two rolecall binaries on the same corpus, alternating within
# each round so that the machine's drift hits both alike (run by hand, not
# in CI). Prints each run's wall time and peak RSS, then the medians and the
# ratio B/A. Used for the static-key summary's cost (A: the build before it,
# B: the build with it) on more than one corpus shape:
#
#   A=/tmp/rolecall-before B=target/release/rolecall DIR=/tmp/rolecall-bench-1000000 tests/bench/ab.sh
#   RUNS=7 THREADS=2 ... tests/bench/ab.sh
#
# DIR is any corpus (`cargo run --release --example generate -- --records N
# --out DIR` writes one); the scan reads all of it with every detection.
set -euo pipefail

: "${A:?A=path to the first rolecall binary}"
: "${B:?B=path to the second rolecall binary}"
: "${DIR:?DIR=the corpus}"
RUNS=${RUNS:-5}
THREADS=${THREADS:-2}

run() {
  local bin=$1 log
  log=$(mktemp)
  /usr/bin/time -v "$bin" --threads "$THREADS" scan "$DIR" --format json --output /dev/null --fail-on never 2> "$log" || true
  local wall rss
  wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
  rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
  rm -f "$log"
  echo "$wall $rss"
}

"$A" --threads "$THREADS" scan "$DIR" --format json --output /dev/null --fail-on never 2>/dev/null || true
"$B" --threads "$THREADS" scan "$DIR" --format json --output /dev/null --fail-on never 2>/dev/null || true
printf '%-4s %10s %10s %10s %10s\n' run A_wall_s A_peak_MiB B_wall_s B_peak_MiB
a_walls=(); b_walls=(); a_rss=(); b_rss=()
for r in $(seq "$RUNS"); do
  read -r aw ar < <(run "$A")
  read -r bw br < <(run "$B")
  a_walls+=("$aw"); b_walls+=("$bw"); a_rss+=("$ar"); b_rss+=("$br")
  awk -v r="$r" -v aw="$aw" -v ar="$ar" -v bw="$bw" -v br="$br" \
    'BEGIN { printf "%-4s %10.2f %10.1f %10.2f %10.1f\n", r, aw, ar/1024, bw, br/1024 }'
done
median() { printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
ma=$(median "${a_walls[@]}"); mb=$(median "${b_walls[@]}")
ra=$(median "${a_rss[@]}"); rb=$(median "${b_rss[@]}")
awk -v ma="$ma" -v mb="$mb" -v ra="$ra" -v rb="$rb" \
  'BEGIN { printf "median: A %.2f s %.1f MiB, B %.2f s %.1f MiB; B/A wall %.3f, peak %.3f\n", ma, ra/1024, mb, rb/1024, mb/ma, rb/ra }'
