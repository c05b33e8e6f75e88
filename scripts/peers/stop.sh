#!/usr/bin/env bash
# Stops peers started by start.sh, by the PID each one recorded in .peers/NAME.pid.
#
# Usage: scripts/peers/stop.sh kinesalite|kinesis-mock|moto|all
#
# Sends SIGTERM, waits up to SEQCHECK_PEER_STOP_TIMEOUT seconds (default 5), then SIGKILL, and
# removes the pid file. A pid file whose process is gone, or now belongs to a program that is not
# one of our peers (PID reuse), is removed without signalling anything.
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

STOP_TIMEOUT="${SEQCHECK_PEER_STOP_TIMEOUT:-5}"

# started_by_us PID: true when the process runs a program from the peers directory.
started_by_us() {
    local cmdline
    cmdline="$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" || return 1
    [[ "$cmdline" == *"$PEERS_DIR/"* ]]
}

stop_peer() {
    local name="$1" pidfile pid deadline
    pidfile="$PEERS_DIR/$name.pid"
    if [[ ! -f "$pidfile" ]]; then
        echo "$name: not started by start.sh (no pid file)"
        return
    fi
    pid="$(<"$pidfile")"
    if ! [[ "$pid" =~ ^[0-9]+$ ]] || ! kill -0 "$pid" 2>/dev/null; then
        echo "$name: not running; removing stale pid file"
        rm -f "$pidfile"
        return
    fi
    if ! started_by_us "$pid"; then
        echo "$name: pid $pid is not a peer started from $PEERS_DIR; removing stale pid file" >&2
        rm -f "$pidfile"
        return
    fi
    kill -TERM "$pid" 2>/dev/null || true
    deadline=$((SECONDS + STOP_TIMEOUT))
    while kill -0 "$pid" 2>/dev/null && ((SECONDS < deadline)); do
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "$name: pid $pid ignored SIGTERM for ${STOP_TIMEOUT}s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
    echo "$name: stopped (pid $pid)"
}

main() {
    local peers peer
    peers="$(peers_from_arg "${1:-}")"
    for peer in $peers; do
        stop_peer "$peer"
    done
}

main "$@"
