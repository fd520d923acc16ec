#!/usr/bin/env bash
# The memory and time bounds the README promises, measured on a release
# build (run by hand; `tests/integration/bounds.rs` checks the same bounds
# on every CI run, at a smaller scale, on the debug build):
#
#   tests/bench/bounds.sh              # 1 GiB records file, bad-input corpus, bomb
#   SIZE_MIB=4096 tests/bench/bounds.sh
#
# Prints, for each input, wall time and the binary's own peak resident set
# (VmHWM, which ROLECALL_TIMINGS makes it print as it exits), beside the
# peak of a scan of one tiny file: the memory it takes to start at all.
set -euo pipefail
cd "$(dirname "$0")/../.."

SIZE_MIB=${SIZE_MIB:-1024}
THREADS=${THREADS:-2}
DIR=${DIR:-${TMPDIR:-/tmp}/rolecall-bounds}

cargo build --release --quiet --bin rolecall
BIN=${CARGO_TARGET_DIR:-target}/release/rolecall
mkdir -p "$DIR"

python3 - "$DIR" "$SIZE_MIB" <<'PY'
import gzip, json, os, sys, zlib
out, size_mib = sys.argv[1], int(sys.argv[2])

def event(i, key, ua="aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 api/s3#1.58.3"):
    return json.dumps({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "accessKeyId": key, "arn": "arn:aws:iam::111111111111:user/ci",
                         "principalId": "AIDAEXAMPLE", "accountId": "111111111111", "userName": "ci"},
        "eventTime": "2025-05-14T10:00:00Z", "eventSource": "s3.amazonaws.com", "eventName": "GetObject",
        "awsRegion": "us-east-1", "sourceIPAddress": "20.1.2.3", "userAgent": ua,
        "eventID": "e-%012d" % i, "readOnly": True, "recipientAccountId": "111111111111",
        "requestParameters": {"bucketName": "acme-artifacts", "key": "builds/web-1.2.3.tar.gz"},
        "responseElements": None, "managementEvent": False, "eventCategory": "Data",
    }, separators=(",", ":"))

# One large {"Records":[...]} file, record by record.
big = os.path.join(out, "big", "records.json")
os.makedirs(os.path.dirname(big), exist_ok=True)
if not os.path.exists(big) or os.path.getsize(big) < size_mib << 20:
    with open(big, "w") as f:
        f.write('{"Records":[')
        written, i = 0, 0
        while written < size_mib << 20:
            r = event(i, "AKIAIOSFODNN7EXAMPLE")
            if i:
                f.write(",")
            f.write(r)
            written += len(r) + 1
            i += 1
        f.write("]}")

# The bad-input corpus.
bad = os.path.join(out, "bad")
os.makedirs(bad, exist_ok=True)
member = gzip.compress(b"\0" * (1 << 20), 9)
with open(os.path.join(bad, "bomb.json.gz"), "wb") as f:
    for _ in range(4096):  # 4 GiB of zeros
        f.write(member)
with open(os.path.join(bad, "long-line.ndjson"), "w") as f:
    f.write(event(0, "ASIAEXAMPLEKEY000001") + "\n")
    f.write(event(1, "ASIAEXAMPLEKEY000001", "A" * (64 << 20)) + "\n")
    f.write(event(2, "ASIAEXAMPLEKEY000001") + "\n")
with open(os.path.join(bad, "deep.json"), "w") as f:
    f.write("[" * 10000 + "]" * 10000)
records = ",".join(event(i, "AKIAIOSFODNN7EXAMPLE") for i in range(200000))
raw = ('{"Records":[' + records + "]}").encode()
z = gzip.compress(raw, 1)
with open(os.path.join(bad, "truncated.json.gz"), "wb") as f:
    f.write(z[: len(z) // 2])
with open(os.path.join(bad, "bytes.ndjson"), "wb") as f:
    f.write(event(3, "ASIAEXAMPLEKEY000001").encode() + b"\n" + b'{"eventVersion":"1.08","x":"\xff\xfe\x00"}\n')
tiny = os.path.join(out, "tiny")
os.makedirs(tiny, exist_ok=True)
with open(os.path.join(tiny, "t.json"), "w") as f:
    f.write('{"Records":[' + event(0, "AKIAIOSFODNN7EXAMPLE") + "]}")
PY

measure() {
  local label=$1; shift
  local err; err=$(mktemp)
  local start end
  start=$(date +%s.%N)
  ROLECALL_TIMINGS=1 "$BIN" --threads "$THREADS" scan "$@" --format json --fail-on never >/dev/null 2>"$err" || true
  end=$(date +%s.%N)
  local peak; peak=$(sed -n 's/^rolecall: peak resident memory: \([0-9]*\) bytes$/\1/p' "$err")
  printf '%-28s %8.2f s %8d MiB\n' "$label" "$(echo "$end - $start" | bc)" "$((peak >> 20))"
  rm -f "$err"
}

echo "rolecall $("$BIN" --version | cut -d' ' -f2), $THREADS threads; peak is the binary's own VmHWM"
measure "one tiny file (start-up)" "$DIR/tiny"
measure "records file, ${SIZE_MIB} MiB" "$DIR/big"
measure "bad-input corpus" "$DIR/bad"
measure "the bomb alone" "$DIR/bad/bomb.json.gz"
