#!/usr/bin/env bash
# Concurrent histories against every target, each checked by `seqcheck history check`:
#   - the embedded service and the reference model, served on loopback behind the fault proxy,
#     with network faults, resharding and consumer kills (must check clean);
#   - kinesalite, kinesis-mock and moto (standard peers) with network faults;
#   - kinesalite-durable and kinesis-mock-durable with kill -9 and restart.
# A peer's anomaly classes recorded in tests/expectations/history/NAME.json are reported but do
# not fail the run; any other anomaly does (exit 1), and so does a run that checked nothing.
#
# Usage: scripts/history-runs.sh [OUT_DIR]   (peers must be running: scripts/peers/start.sh …)
# SEQCHECK_HISTORY_SECONDS (default 15) and SEQCHECK_HISTORY_OPS (default 2000) bound each run;
# raise them for a soak. SEQCHECK_BIN picks the seqcheck binary (default target/debug/seqcheck).
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-target/histories}"
seconds="${SEQCHECK_HISTORY_SECONDS:-15}"
ops="${SEQCHECK_HISTORY_OPS:-2000}"
bin="${SEQCHECK_BIN:-target/debug/seqcheck}"
mkdir -p "$out"
failed=0

# check NAME: checks $out/NAME.jsonl (with NAME's recorded classes, if any) and writes a timeline.
check() {
    local name="$1" recorded=()
    [[ -f "tests/expectations/history/$name.json" ]] &&
        recorded=(--recorded "tests/expectations/history/$name.json")
    if ! "$bin" history check "$out/$name.jsonl" --html "$out/$name.html" \
        --json "$out/$name.report.json" "${recorded[@]}"; then
        echo "history of $name: FAILED (see $out/$name.html)" >&2
        failed=1
    fi
}

# run NAME ARGS…: one bounded, seeded run writing $out/NAME.jsonl, then its check.
run() {
    local name="$1"
    shift
    echo "== history: $name"
    rm -rf "$out/run-$name"
    if ! "$bin" history run "$@" --duration "$seconds" --max-ops "$ops" --seed 7 \
        --producers 3 --consumers 2 --out "$out/$name.jsonl" --run-dir "$out/run-$name"; then
        echo "history run of $name did not complete" >&2
        failed=1
        return
    fi
    check "$name"
}

faults=(--net-faults --reshard --kill-consumers --nemesis-interval 1000)
run embedded --target embedded "${faults[@]}"
run model --target model "${faults[@]}"
run kinesalite --endpoint http://127.0.0.1:4567 "${faults[@]}"
run kinesis-mock --endpoint http://127.0.0.1:4568 "${faults[@]}"
run moto --endpoint http://127.0.0.1:5000 "${faults[@]}"
for durable in kinesalite-durable:4577 kinesis-mock-durable:4578; do
    name="${durable%%:*}"
    run "$name" --endpoint "http://127.0.0.1:${durable##*:}" --nemesis-interval 4000 \
        --kill-cmd "scripts/peers/kill.sh $name" --restart-cmd "scripts/peers/start.sh $name"
done
exit "$failed"
