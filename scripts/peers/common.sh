# Shared settings of the peer scripts; sourced, never run on its own.
# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this file

# Repository root and the git-ignored directory that holds installed peers, logs and pid files.
PEERS_SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$PEERS_SCRIPT_DIR/../.." && pwd)"
PEERS_DIR="${SEQCHECK_PEERS_DIR:-$REPO_ROOT/.peers}"

# The standard peers, in start order: what "all" means (CI starts these). Their state is in memory.
ALL_PEERS=(kinesalite kinesis-mock moto)

# Durable variants: the same installed programs on ports of their own, keeping their state in
# .peers/NAME.data/ across restarts. Never part of "all"; started, stopped and killed by name.
# moto has none: 5.2.5 keeps no state across a restart.
DURABLE_PEERS=(kinesalite-durable kinesis-mock-durable)

# Pinned versions.
KINESALITE_VERSION="3.3.3"
KINESIS_LOCAL_VERSION="0.6.2"
MOTO_VERSION="5.2.5"

# Loopback ports.
KINESALITE_PORT=4567
KINESIS_MOCK_PORT=4568
KINESIS_MOCK_TLS_PORT=4569
MOTO_PORT=5000
KINESALITE_DURABLE_PORT=4577
KINESIS_MOCK_DURABLE_PORT=4578
KINESIS_MOCK_DURABLE_TLS_PORT=4579

# How often kinesis-mock-durable writes its snapshot (a kinesis-mock duration: 500ms, 5s, ...).
# What was acknowledged since the last snapshot is lost on SIGKILL. 5s is kinesis-mock's default.
KINESIS_MOCK_PERSIST_INTERVAL="${SEQCHECK_KINESIS_MOCK_PERSIST_INTERVAL:-5s}"

die() {
    echo "error: $*" >&2
    exit 1
}

# Bound on how long stop_pid waits after SIGTERM before it sends SIGKILL (seconds).
STOP_TIMEOUT="${SEQCHECK_PEER_STOP_TIMEOUT:-5}"

# base_of NAME: the standard peer whose installed program NAME runs (kinesalite-durable ->
# kinesalite); fails for an unknown name.
base_of() {
    case "$1" in
        kinesalite | kinesalite-durable) echo kinesalite ;;
        kinesis-mock | kinesis-mock-durable) echo kinesis-mock ;;
        moto) echo moto ;;
        *) die "unknown peer '$1' (known: ${ALL_PEERS[*]} ${DURABLE_PEERS[*]})" ;;
    esac
}

# is_durable NAME: true for a variant that keeps its state in data_dir_of NAME.
is_durable() {
    [[ "$1" == *-durable ]]
}

# port_of NAME: the plain-HTTP port of a peer.
port_of() {
    case "$1" in
        kinesalite) echo "$KINESALITE_PORT" ;;
        kinesis-mock) echo "$KINESIS_MOCK_PORT" ;;
        moto) echo "$MOTO_PORT" ;;
        kinesalite-durable) echo "$KINESALITE_DURABLE_PORT" ;;
        kinesis-mock-durable) echo "$KINESIS_MOCK_DURABLE_PORT" ;;
        *) die "unknown peer '$1' (known: ${ALL_PEERS[*]} ${DURABLE_PEERS[*]})" ;;
    esac
}

# tls_port_of NAME: the second (TLS) port a peer listens on, or nothing when it has none.
tls_port_of() {
    case "$1" in
        kinesis-mock) echo "$KINESIS_MOCK_TLS_PORT" ;;
        kinesis-mock-durable) echo "$KINESIS_MOCK_DURABLE_TLS_PORT" ;;
        *) ;;
    esac
}

# data_dir_of NAME: where a durable variant keeps its state.
data_dir_of() {
    is_durable "$1" || die "$1 keeps no data (durable peers: ${DURABLE_PEERS[*]})"
    echo "$PEERS_DIR/$1.data"
}

# peers_from_arg ARG: prints the peers named by ARG ("all" or one name), one per line. "all" is
# the standard peers only.
peers_from_arg() {
    case "${1:-}" in
        all) printf '%s\n' "${ALL_PEERS[@]}" ;;
        kinesalite | kinesis-mock | moto | kinesalite-durable | kinesis-mock-durable) echo "$1" ;;
        "") die "missing peer name (one of: ${ALL_PEERS[*]} ${DURABLE_PEERS[*]} all)" ;;
        *) die "unknown peer '$1' (one of: ${ALL_PEERS[*]} ${DURABLE_PEERS[*]} all)" ;;
    esac
}

# program_of NAME: the program a peer started by start.sh runs; its command line contains this path.
# A durable variant runs the same program as its standard peer.
program_of() {
    case "$(base_of "$1")" in
        kinesalite) echo "$PEERS_DIR/kinesalite/node_modules/kinesalite/cli.js" ;;
        kinesis-mock) echo "$PEERS_DIR/kinesis-local/node_modules/kinesis-local/main.js" ;;
        moto) echo "$PEERS_DIR/venv/bin/moto_server" ;;
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

# configured_port NAME PID: the port PID was told to listen on, the way start.sh tells NAME's
# program: kinesalite's --port and moto's -p on the command line, kinesis-mock's
# KINESIS_MOCK_PLAIN_PORT in the environment it was started with. Prints nothing when not found.
configured_port() {
    local name="$1" pid="$2" flag entry i
    local -a words
    case "$(base_of "$name")" in
        kinesis-mock)
            mapfile -d '' -t words 2>/dev/null <"/proc/$pid/environ" || return 0
            for entry in "${words[@]}"; do
                if [[ "$entry" == KINESIS_MOCK_PLAIN_PORT=* ]]; then
                    echo "${entry#*=}"
                    return 0
                fi
            done
            return 0
            ;;
        kinesalite) flag=--port ;;
        moto) flag=-p ;;
    esac
    mapfile -d '' -t words 2>/dev/null <"/proc/$pid/cmdline" || return 0
    for ((i = 0; i + 1 < ${#words[@]}; i++)); do
        if [[ "${words[i]}" == "$flag" ]]; then
            echo "${words[i + 1]}"
            return 0
        fi
    done
}

# started_by_us NAME PID: true when PID runs NAME's program from the peers directory and was told
# NAME's port, so a pid file whose number now belongs to some other program (PID reuse), or to the
# other variant of the same program (kinesalite vs kinesalite-durable), is never acted upon.
started_by_us() {
    local cmdline
    cmdline="$(tr '\0' ' ' 2>/dev/null <"/proc/$2/cmdline")" || return 1
    [[ "$cmdline" == *"$(program_of "$1")"* ]] || return 1
    [[ "$(configured_port "$1" "$2")" == "$(port_of "$1")" ]]
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
