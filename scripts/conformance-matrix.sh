#!/usr/bin/env bash
# Regenerates docs/conformance.md from real runs: the reference model, the embedded service and
# the three peers. One command: installs the peers if needed, starts those not already running
# (and stops exactly those again at the end), runs `seqcheck check --json` against each, and
# merges the reports with `seqcheck matrix`.
#
# SEQCHECK_MATRIX_CASES sets the cases per area for the peers (default 64); the model and the
# embedded service always get 256. The peers run side by side, each with its own restart command
# (a peer that crashes is restarted and the run goes on).
set -euo pipefail
cd "$(dirname "$0")/.."
cases="${SEQCHECK_MATRIX_CASES:-64}"
peers_dir="${SEQCHECK_PEERS_DIR:-.peers}"
out="$(mktemp -d)"
started=()
cleanup() {
    if ((${#started[@]})); then
        for peer in "${started[@]}"; do scripts/peers/stop.sh "$peer" || true; done
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

cargo build --release --bin seqcheck
bin=./target/release/seqcheck
"$bin" check --target model --cases 256 --label model --json "$out/model.json" >/dev/null || true
"$bin" check --cases 256 --label embedded --json "$out/embedded.json" >/dev/null || true
for peer in kinesalite:4567 kinesis-mock:4568 moto:5000; do
    name=${peer%%:*}
    port=${peer##*:}
    "$bin" check --endpoint "http://127.0.0.1:$port" --label "$name" --cases "$cases" \
        --expectations "tests/expectations/$name.json" --restart-cmd "scripts/peers/start.sh $name" \
        --json "$out/$name.json" >"$out/$name.txt" 2>&1 &
done
wait
mkdir -p docs
"$bin" matrix --out docs/conformance.md \
    --json "$out/model.json" --json "$out/embedded.json" \
    --json "$out/kinesalite.json" --json "$out/kinesis-mock.json" --json "$out/moto.json" \
    --expectations tests/expectations/kinesalite.json \
    --expectations tests/expectations/kinesis-mock.json \
    --expectations tests/expectations/moto.json
