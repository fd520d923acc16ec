#!/usr/bin/env bash
# rolecall against the ceiling (decompression alone) and DuckDB on the same
# work, side by side (run by hand, not in CI):
#
#   tests/bench/compare.sh                   # 1,000,000 records, 3 runs each
#   N=10000000 RUNS=1 tests/bench/compare.sh
#
# Generates the corpus once (AWSLogs gzip layout, ~3% web-identity
# exchanges, ~20% calls with their keys, other STS calls with keys of their
# own), then, alternating within each round:
#   1. the ceiling: every file decompressed to /dev/null by gzip, pigz and
#      libdeflate-gunzip, with 1 and 2 processes (Debian: pigz,
#      libdeflate-tools);
#   2. DuckDB (Python package, default threads) answering rolecall's core
#      question (exchanges joined to the later calls with their keys, keys
#      used from more than one address), in three of its ways of reading
#      JSON (objects, inferred schema, declared columns);
#   3. rolecall scan, all detections, with 1 and 2 threads.
# Prints wall time (median, min-max), MB/s of uncompressed input, records/s,
# peak RSS, and the ratios to rolecall at 2 threads, then rolecall against
# DuckDB's fastest form and the 2-process ceiling. Then checks that the
# findings are identical when the same input is given in ten parts.
set -euo pipefail
cd "$(dirname "$0")/../.."

N=${N:-1000000}
RUNS=${RUNS:-3}
DIR=${DIR:-${TMPDIR:-/tmp}/rolecall-bench-$N}
FORMS=${FORMS:-"objects inferred declared"}

for tool in pigz libdeflate-gunzip /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "missing $tool (apt-get install pigz libdeflate-tools time)"; exit 2; }
done
python3 -c 'import duckdb' 2>/dev/null || { echo "missing duckdb (python3 -m pip install duckdb)"; exit 2; }

cargo build --release --quiet --bin rolecall --example generate
BIN=${CARGO_TARGET_DIR:-target}/release
[ -d "$DIR/AWSLogs" ] || "$BIN/examples/generate" --records "$N" --out "$DIR"

list=$(mktemp)
find "$DIR/AWSLogs" -name '*.json.gz' | sort > "$list"
files=$(wc -l < "$list")
uncompressed=$(xargs -a "$list" cat | gzip -dc | wc -c)
echo "corpus: $N records, $files files, $(du -sb "$DIR/AWSLogs" | cut -f1) bytes gzipped, $uncompressed uncompressed ($DIR)"

declare -A walls rss failed
# measure LABEL COMMAND...: one timed run, appended to the label's samples.
measure() {
  local label=$1; shift
  local log; log=$(mktemp)
  if ! /usr/bin/time -f '%e %M' -o "$log" "$@" > /dev/null 2>"$log.err"; then
    echo "$label failed: $(tail -3 "$log.err" | tr '\n' ' ')" >&2
    failed[$label]=1
  fi
  read -r wall kb < <(tail -1 "$log")
  walls[$label]="${walls[$label]:-} $wall"
  rss[$label]="${rss[$label]:-} $kb"
  rm -f "$log" "$log.err"
}

labels=()
add() { labels+=("$1"); }
for p in 1 2; do add "gzip -dc, $p proc"; add "pigz -dc, $p proc"; add "libdeflate-gunzip, $p proc"; done
for f in $FORMS; do add "duckdb $f"; done
for t in 1 2; do add "rolecall scan, $t thread"; done

for r in $(seq "$RUNS"); do
  echo "round $r of $RUNS"
  for p in 1 2; do
    measure "gzip -dc, $p proc" bash -c "xargs -a '$list' -n 32 -P $p gzip -dc > /dev/null"
    measure "pigz -dc, $p proc" bash -c "xargs -a '$list' -n 32 -P $p pigz -dc > /dev/null"
    measure "libdeflate-gunzip, $p proc" bash -c "xargs -a '$list' -n 32 -P $p libdeflate-gunzip -c > /dev/null"
  done
  for f in $FORMS; do
    measure "duckdb $f" python3 tests/bench/duckdb_join.py "$DIR" "$f"
  done
  for t in 1 2; do
    measure "rolecall scan, $t thread" "$BIN/rolecall" --threads "$t" scan "$DIR" --format json --output /dev/null --fail-on never
  done
done

python3 - "$uncompressed" "$N" "${labels[@]}" <<PY
import statistics, sys
uncompressed, n = int(sys.argv[1]), int(sys.argv[2])
labels = sys.argv[3:]
failed = {$(for l in "${!failed[@]}"; do printf '"%s", ' "$l"; done)}
walls = {$(for l in "${labels[@]}"; do printf '"%s": [%s], ' "$l" "$(echo ${walls[$l]} | tr ' ' ',')"; done)}
rss = {$(for l in "${labels[@]}"; do printf '"%s": [%s], ' "$l" "$(echo ${rss[$l]} | tr ' ' ',')"; done)}
ref = statistics.median(walls["rolecall scan, 2 thread"])
print(f"{'':30} {'median s':>9} {'min-max s':>13} {'MB/s':>8} {'records/s':>11} {'peak MiB':>9} {'vs rolecall':>11}")
for l in labels:
    if l in failed:
        print(f"{l:30} failed (see above)"); continue
    w = walls[l]; m = statistics.median(w)
    print(f"{l:30} {m:9.2f} {min(w):6.2f}-{max(w):<6.2f} {uncompressed/m/1e6:8.0f} {n/m:11,.0f} {max(rss[l])/1024:9.0f} {m/ref:10.2f}x")
def best(prefix):
    ok = [statistics.median(walls[l]) for l in labels if l.startswith(prefix) and l not in failed]
    return min(ok) if ok else float("nan")
print()
print(f"rolecall (2 threads) / DuckDB's fastest form: {ref / best('duckdb'):.2f} (target: at most 0.33)")
print(f"rolecall (2 threads) / libdeflate-gunzip, 2 proc: {ref / best('libdeflate-gunzip, 2'):.1f}x (target: at most 4x)")
print(f"rolecall, 1 to 2 threads: {statistics.median(walls['rolecall scan, 1 thread']) / ref:.2f}x faster")
PY

# The same input (trail, claim sets, job records) in ten parts, every
# part a mix of days and accounts: identical findings.
split=$(mktemp -d)
i=0
while read -r f; do
  part="$split/part$((i % 10))"; mkdir -p "$part"; ln -s "$f" "$part/$(basename "$f")"; i=$((i + 1))
done < <(find "$DIR" -type f | sort)
one=$(mktemp); ten=$(mktemp)
"$BIN/rolecall" scan "$DIR" --format json --fail-on never | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(sorted(json.dumps(f, sort_keys=True) for f in d["findings"])))' > "$one"
"$BIN/rolecall" scan "$split"/part* --format json --fail-on never | python3 -c 'import json,sys; d=json.load(sys.stdin); print(json.dumps(sorted(json.dumps(f, sort_keys=True) for f in d["findings"])))' > "$ten"
if cmp -s "$one" "$ten"; then echo "ten parts: identical findings ($(python3 -c "import json; print(len(json.load(open('$one'))))" ) findings)"; else echo "ten parts: FINDINGS DIFFER"; exit 1; fi
rm -rf "$split" "$one" "$ten" "$list"
