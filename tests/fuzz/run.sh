#!/usr/bin/env bash
# Runs every fuzz target for a bounded time, seeded from the sample logs and
# the test fixtures (copied to a scratch corpus; nothing here is committed).
#
#   tests/fuzz/run.sh            # 30 s per target
#   SECONDS_PER_TARGET=600 tests/fuzz/run.sh ingest_cloudtrail
#
# A crash leaves its input in tests/fuzz/artifacts/TARGET/; turn it into a
# regression test under tests/integration/fuzz_regressions.rs.
# cargo-fuzz needs nightly features; the stable toolchain allows them with
# RUSTC_BOOTSTRAP=1. Dev builds keep the (instrumented) compile of polars
# and the AWS SDK to minutes.
set -euo pipefail
cd "$(dirname "$0")/../.."

per=${SECONDS_PER_TARGET:-30}
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=(ingest_cloudtrail scanner stream ingest_gcp ingest_azure ingest_vault ingest_claims ingest_jobs jwt subject policy)
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_DIR=${FUZZ_TARGET_DIR:-${CARGO_TARGET_DIR:-$HOME/.cache/rolecall-target}/fuzz}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
corpus() {
  local t=$1; shift
  mkdir -p "$scratch/$t"
  local i=0
  for f in "$@"; do
    [ -f "$f" ] || continue
    i=$((i + 1))
    cp "$f" "$scratch/$t/seed-$i"
  done
}
corpus ingest_cloudtrail $(find sample-logs/AWSLogs -name '*.json.gz' | sort | head -12)
corpus scanner
for f in $(find sample-logs/AWSLogs -name '*.json.gz' | sort | head -6); do
  gzip -dc "$f" > "$scratch/scanner/$(basename "$f" .gz)"
done
corpus stream
for f in $(find sample-logs/AWSLogs -name '*.json.gz' | sort | head -4); do
  { printf '\x07'; gzip -dc "$f" | head -c 65536 || true; } > "$scratch/stream/$(basename "$f" .gz)"
done
cp sample-logs/vault/vault_audit.log "$scratch/stream/vault" 2>/dev/null || true
corpus ingest_gcp $(find sample-logs/gcp -type f | sort)
corpus ingest_azure $(find sample-logs/azure -type f | sort)
corpus ingest_vault sample-logs/vault/vault_audit.log
corpus ingest_claims sample-logs/claims/*
corpus ingest_jobs sample-logs/ci/workflow_job.ndjson
corpus jwt
head -3 sample-logs/claims/gitlab-id-tokens.jwt | while read -r token; do
  printf '%s' "$token" > "$scratch/jwt/seed-$RANDOM"
done
corpus subject
python3 - "$scratch/subject" <<'PY'
import json, sys, pathlib
out = pathlib.Path(sys.argv[1])
subs = set()
for line in open("sample-logs/claims/github-actions.ndjson"):
    try:
        subs.add(json.loads(line)["sub"])
    except Exception:
        pass
subs |= {"repo:acme/web:ref:refs/heads/main", "project_path:g/p:ref_type:branch:ref:main",
         "org:acme:project:p:user:u", "organization:acme:pipeline:deploy:ref:refs/heads/main:commit:abc:step:1",
         "organization:acme:project:p:workspace:w:run_phase:apply", "system:serviceaccount:ns:sa"}
for i, s in enumerate(sorted(subs)):
    (out / f"seed-{i}").write_text(s)
PY
corpus policy sample-logs/rolecall.toml

command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cargo fuzz build --dev --sanitizer none --fuzz-dir tests/fuzz
# A target binary is about 1.4 GB, and every build of a changed crate links
# new ones beside the old; only the current ones are hard-linked from the
# profile directory, so the rest go (a reused target directory once grew to
# 45 GB).
find "$CARGO_TARGET_DIR"/*/debug/deps -maxdepth 1 -type f -perm -u+x -size +100M -links 1 -delete 2>/dev/null || true
status=0
for t in "${targets[@]}"; do
  echo "fuzzing $t for ${per}s"
  if ! cargo fuzz run --dev --sanitizer none --fuzz-dir tests/fuzz "$t" "$scratch/$t" -- \
      -max_total_time="$per" -rss_limit_mb=2048 -timeout=20 -print_final_stats=1 2>"$scratch/$t.log"; then
    echo "fuzz target $t failed:"; tail -40 "$scratch/$t.log"; status=1
  else
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)' "$scratch/$t.log" | tr '\n' ' '; echo
  fi
done
exit $status
