# Shared settings of the peer scripts; sourced, never run on its own.
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this file

# Repository root and the git-ignored directory that holds installed peers, logs and pid files.
PEERS_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PEERS_SCRIPT_DIR/../.." && pwd)"
PEERS_DIR="${SEQCHECK_PEERS_DIR:-$REPO_ROOT/.peers}"

# Every peer this directory knows, in start order.
ALL_PEERS=(kinesalite kinesis-mock moto)

# Pinned versions.
KINESALITE_VERSION="3.3.3"
KINESIS_LOCAL_VERSION="0.6.2"
MOTO_VERSION="5.2.5"

# Loopback ports.
KINESALITE_PORT=4567
KINESIS_MOCK_PORT=4568
KINESIS_MOCK_TLS_PORT=4569
MOTO_PORT=5000

die() {
    echo "error: $*" >&2
    exit 1
}

# Bound on how long stop_pid waits after SIGTERM before it sends SIGKILL (seconds).
STOP_TIMEOUT="${SEQCHECK_PEER_STOP_TIMEOUT:-5}"

# port_of NAME: the plain-HTTP port of a peer.
port_of() {
    case "$1" in
        kinesalite) echo "$KINESALITE_PORT" ;;
        kinesis-mock) echo "$KINESIS_MOCK_PORT" ;;
        moto) echo "$MOTO_PORT" ;;
        *) die "unknown peer '$1' (known: ${ALL_PEERS[*]})" ;;
    esac
}

# peers_from_arg ARG: prints the peers named by ARG ("all" or one name), one per line.
peers_from_arg() {
    case "${1:-}" in
        all) printf '%s\n' "${ALL_PEERS[@]}" ;;
        kinesalite | kinesis-mock | moto) echo "$1" ;;
        "") die "missing peer name (one of: ${ALL_PEERS[*]} all)" ;;
        *) die "unknown peer '$1' (one of: ${ALL_PEERS[*]} all)" ;;
    esac
}

# program_of NAME: the program a peer started by start.sh runs; its command line contains this path.
program_of() {
    case "$1" in
        kinesalite) echo "$PEERS_DIR/kinesalite/node_modules/kinesalite/cli.js" ;;
        kinesis-mock) echo "$PEERS_DIR/kinesis-local/node_modules/kinesis-local/main.js" ;;
        moto) echo "$PEERS_DIR/venv/bin/moto_server" ;;
        *) die "unknown peer '$1' (known: ${ALL_PEERS[*]})" ;;
    esac
}

# pid_alive PID: true when PID is a number naming a live process (a zombie counts as dead).
pid_alive() {
    local stat rest
    [[ "$1" =~ ^[0-9]+$ ]] || return 1
    kill -0 "$1" 2>/dev/null || return 1
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest="${stat##*) }" # the fields after "(comm)", which may itself hold spaces or parentheses
    [[ "${rest%% *}" != Z ]]
}

# started_by_us NAME PID: true when PID runs NAME's program from the peers directory, so a pid
# file whose number now belongs to some other program (PID reuse) is never acted upon.
started_by_us() {
    local cmdline
    cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$2/cmdline")" || return 1
    [[ "$cmdline" == *"$(program_of "$1")"* ]]
}

# lock_peer NAME: takes NAME's lock on file descriptor 9, so concurrent start.sh/stop.sh calls for
# one peer (say two restarts at once) run one after the other. Released by unlock_peer or on exit.
# The peer itself must not inherit descriptor 9 (start.sh closes it when launching).
lock_peer() {
    local wait="$((${SEQCHECK_PEER_START_TIMEOUT:-30} + ${SEQCHECK_PEER_PROBE_TIMEOUT:-5} + STOP_TIMEOUT + 15))"
    exec 9>"$PEERS_DIR/$1.lock"
    flock -w "$wait" 9 || die "$1: another start.sh or stop.sh held the lock for ${wait}s"
}

unlock_peer() {
    exec 9>&-
}

# stop_pid NAME PID [GRACE]: SIGTERM (then SIGCONT, so a stopped process acts on it), up to GRACE
# seconds (default STOP_TIMEOUT), then SIGKILL; returns once PID is gone. Only ever called with a
# PID this project recorded and started_by_us has confirmed.
stop_pid() {
    local name="$1" pid="$2" grace="${3:-$STOP_TIMEOUT}" deadline
    kill -TERM "$pid" 2>/dev/null || true
    kill -CONT "$pid" 2>/dev/null || true
    deadline=$((SECONDS + grace))
    while pid_alive "$pid" && ((SECONDS < deadline)); do
        sleep 0.05
    done
    if pid_alive "$pid"; then
        echo "$name: pid $pid ignored SIGTERM for ${grace}s; sending SIGKILL" >&2
        kill -KILL "$pid" 2>/dev/null || true
        deadline=$((SECONDS + 5))
        while pid_alive "$pid" && ((SECONDS < deadline)); do
            sleep 0.05
        done
        if pid_alive "$pid"; then
            die "$name: pid $pid is still there 5 s after SIGKILL"
        fi
    fi
}
