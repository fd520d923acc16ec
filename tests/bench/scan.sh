#!/usr/bin/env bash
# End-to-end benchmark of `rolecall scan` (run by hand, not in CI).
#
#   tests/bench/scan.sh                 # 1,000,000 records
#   N=10000000 tests/bench/scan.sh      # 10 million
#   RUNS=5 THREADS="1 2" tests/bench/scan.sh
#
# Generates the corpus once (deterministic; AWSLogs gzip layout, ~1.2 KB a
# record, ~3% web-identity exchanges, ~20% calls with their keys, other STS
# calls with keys of their own), then times the scan with /usr/bin/time -v
# and prints wall time, throughput over the uncompressed bytes, records/s and
# peak RSS for each thread count.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-1000000}
RUNS=${RUNS:-3}
THREADS=${THREADS:-"1 2"}
DIR=${DIR:-${TMPDIR:-/tmp}/rolecall-bench-$N}

cargo build --release --quiet --bin rolecall --example generate
BIN=${CARGO_TARGET_DIR:-target}/release
if [ ! -d "$DIR/AWSLogs" ]; then
  "$BIN/examples/generate" --records "$N" --out "$DIR"
fi

files=$(find "$DIR/AWSLogs" -name '*.json.gz' | wc -l)
compressed=$(du -sb "$DIR/AWSLogs" | cut -f1)
uncompressed=$(find "$DIR/AWSLogs" -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c)
echo "corpus: $N records in $files files, $compressed bytes gzipped, $uncompressed bytes uncompressed ($DIR)"
printf '%-8s %-6s %10s %10s %12s %12s %10s\n' threads run wall_s MB/s records/s peak_MiB findings

for t in $THREADS; do
  for r in $(seq "$RUNS"); do
    log=$(mktemp)
    out=$(mktemp)
    /usr/bin/time -v "$BIN/rolecall" --threads "$t" scan "$DIR" --format json --output "$out" --fail-on never 2> "$log" || true
    wall=$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$log" | awk -F: '{ if (NF==3) print $1*3600+$2*60+$3; else print $1*60+$2 }')
    rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$log")
    findings=$(python3 -c "import json,sys; print(json.load(open('$out'))['summary']['findings']['total'])")
    awk -v t="$t" -v r="$r" -v w="$wall" -v b="$uncompressed" -v n="$N" -v m="$rss" -v f="$findings" \
      'BEGIN { printf "%-8s %-6s %10.2f %10.1f %12.0f %12.1f %10s\n", t, r, w, b/w/1e6, n/w, m/1024, f }'
    rm -f "$log" "$out"
  done
done
