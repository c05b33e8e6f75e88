#!/usr/bin/env bash
# Stops peers started by start.sh, by the PID each one recorded in .peers/NAME.pid.
#
# Usage: scripts/peers/stop.sh kinesalite|kinesis-mock|moto|all
#        scripts/peers/stop.sh kinesalite-durable|kinesis-mock-durable
#
# "all" is the three standard peers; a durable variant is stopped by name and keeps its data.
#
# Sends SIGTERM (and SIGCONT, for a stopped process), waits up to SEQCHECK_PEER_STOP_TIMEOUT
# seconds (default 5), then SIGKILL, and removes the pid file. A pid file whose process is gone, or
# now runs a program other than that peer's (PID reuse, or the other variant of the same program),
# is removed without signalling anything.
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

stop_peer() {
    local name="$1" pidfile pid
    pidfile="$PEERS_DIR/$name.pid"
    if [[ ! -f "$pidfile" ]]; then
        echo "$name: not started by start.sh (no pid file)"
        return
    fi
    lock_peer "$name"
    pid="$(<"$pidfile")"
    if ! pid_alive "$pid"; then
        echo "$name: not running; removing stale pid file"
        rm -f "$pidfile"
        unlock_peer
        return
    fi
    if ! started_by_us "$name" "$pid"; then
        echo "$name: pid $pid is not $name (its program from $PEERS_DIR, told port $(port_of "$name")); removing stale pid file" >&2
        rm -f "$pidfile"
        unlock_peer
        return
    fi
    stop_pid "$name" "$pid"
    rm -f "$pidfile"
    unlock_peer
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
