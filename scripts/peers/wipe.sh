#!/usr/bin/env bash
# Deletes the saved state of a durable peer, so its next start begins empty.
#
# Usage: scripts/peers/wipe.sh kinesalite-durable|kinesis-mock-durable
#
# Refuses while that peer runs (stop.sh or kill.sh it first): a running peer would go on using,
# or write back, the files underneath it. Removes .peers/NAME.data/ only; logs stay.
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

wipe_peer() {
    local name="$1" data pidfile pid
    data="$(data_dir_of "$name")"
    pidfile="$PEERS_DIR/$name.pid"
    mkdir -p "$PEERS_DIR"
    lock_peer "$name"
    if [[ -f "$pidfile" ]]; then
        pid="$(<"$pidfile")"
        if pid_alive "$pid" && started_by_us "$name" "$pid"; then
            die "$name is running (pid $pid); stop it with scripts/peers/stop.sh $name first"
        fi
    fi
    if [[ -e "$data" ]]; then
        rm -rf -- "$data"
        echo "$name: removed $data"
    else
        echo "$name: no data ($data does not exist)"
    fi
    unlock_peer
}

main() {
    local name
    [[ "${1:-}" != all ]] || die "wipe.sh takes one durable peer name, not 'all'"
    name="$(peers_from_arg "${1:-}")"
    is_durable "$name" || die "$name keeps no data; durable peers: ${DURABLE_PEERS[*]}"
    wipe_peer "$name"
}

main "$@"
