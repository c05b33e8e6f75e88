#!/usr/bin/env bash
# Regenerates docs/conformance.md from real runs: the reference model, the embedded service and
# the three peers (which must be installed and started: scripts/peers/start.sh all).
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${SEQCHECK_MATRIX_CASES:-16}"
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT
cargo build --bin seqcheck
bin=./target/debug/seqcheck
"$bin" check --target model --cases 256 --label model --json "$out/model.json" >/dev/null || true
"$bin" check --cases 256 --label embedded --json "$out/embedded.json" >/dev/null || true
for peer in kinesalite:4567 kinesis-mock:4568 moto:5000; do
    name=${peer%%:*}
    port=${peer##*:}
    "$bin" check --endpoint "http://127.0.0.1:$port" --label "$name" --cases "$cases" \
        --expectations "tests/expectations/$name.json" --json "$out/$name.json" >/dev/null || true
done
mkdir -p docs
"$bin" matrix --out docs/conformance.md \
    --json "$out/model.json" --json "$out/embedded.json" \
    --json "$out/kinesalite.json" --json "$out/kinesis-mock.json" --json "$out/moto.json" \
    --expectations tests/expectations/kinesalite.json \
    --expectations tests/expectations/kinesis-mock.json \
    --expectations tests/expectations/moto.json
