#!/usr/bin/env bash
# Crashes a peer started by start.sh: SIGKILL to the PID recorded in .peers/NAME.pid, for
# crash-and-restart tests (seqcheck's --kill-cmd; start.sh NAME is the --restart-cmd).
#
# Usage: scripts/peers/kill.sh NAME
#        NAME: kinesalite-durable|kinesis-mock-durable, or a standard peer (kinesalite|kinesis-mock|moto)
#
# Signals exactly the recorded PID, and only when that process is alive and runs NAME's program
# from the peers directory with NAME's port (the checks stop.sh makes), waits until it is gone
# (bounded by SEQCHECK_PEER_STOP_TIMEOUT seconds, default 5), removes the pid file and prints what
# it did. Nothing gets a chance to flush or save: a durable peer restarts on whatever it had
# written to .peers/NAME.data/ by then. Exit status 0 means the recorded peer was killed and is
# gone; 1 means nothing was killed (no pid file, the process already gone, or the PID now runs
# something else; a stale pid file is removed) or the process outlived SIGKILL.
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

kill_peer() {
    local name="$1" pidfile pid deadline
    pidfile="$PEERS_DIR/$name.pid"
    [[ -f "$pidfile" ]] || die "$name: not started by start.sh (no pid file $pidfile); nothing killed"
    lock_peer "$name"
    [[ -f "$pidfile" ]] || die "$name: its pid file went away meanwhile (stopped by stop.sh?); nothing killed"
    pid="$(<"$pidfile")"
    if ! pid_alive "$pid"; then
        rm -f "$pidfile"
        die "$name: recorded pid $pid is not running; removed the stale pid file, nothing killed"
    fi
    if ! started_by_us "$name" "$pid"; then
        rm -f "$pidfile"
        die "$name: pid $pid is not $name (its program from $PEERS_DIR, told port $(port_of "$name")); removed the stale pid file, nothing killed"
    fi
    kill -KILL "$pid"
    deadline=$((SECONDS + STOP_TIMEOUT))
    while pid_alive "$pid"; do
        ((SECONDS < deadline)) || die "$name: pid $pid is still there ${STOP_TIMEOUT}s after SIGKILL"
        sleep 0.02
    done
    rm -f "$pidfile"
    unlock_peer
    echo "$name: sent SIGKILL to pid $pid; it is gone"
}

main() {
    local name
    [[ "${1:-}" != all ]] || die "kill.sh takes one peer name, not 'all'"
    name="$(peers_from_arg "${1:-}")"
    kill_peer "$name"
}

main "$@"
