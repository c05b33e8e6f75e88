#!/usr/bin/env bash
# Regenerates docs/conformance.md from real runs: the reference model, the embedded service and
# the three peers. One command: installs the peers if needed, starts those not already running
# (and stops exactly those again at the end), runs `seqcheck check --json` against each, and
# merges the reports with `seqcheck matrix`.
#
# SEQCHECK_MATRIX_CASES sets the cases per area for the peers (default 16); the model and the
# embedded service always get 256.
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${SEQCHECK_MATRIX_CASES:-16}"
peers_dir="${SEQCHECK_PEERS_DIR:-.peers}"
out="$(mktemp -d)"
started=()
cleanup() {
    if ((${#started[@]})); then
        scripts/peers/stop.sh "${started[@]}" || true
    fi
    rm -rf "$out"
}
trap cleanup EXIT

scripts/peers/install.sh all
for name in kinesalite kinesis-mock moto; do
    pidfile="$peers_dir/$name.pid"
    if ! { [[ -f "$pidfile" ]] && kill -0 "$(<"$pidfile")" 2>/dev/null; }; then
        started+=("$name")
    fi
    scripts/peers/start.sh "$name"
done

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
