#!/usr/bin/env bash
# Starts Kinesis-compatible peers on 127.0.0.1 and waits until each answers ListStreams; also the
# restart command for a peer that crashed or wedged (seqcheck's --restart-cmd).
#
# Usage: scripts/peers/start.sh kinesalite|kinesis-mock|moto|all
#        scripts/peers/start.sh kinesalite-durable|kinesis-mock-durable
#
# "all" is the three standard peers, which keep their state in memory. The durable variants run
# the same programs on ports of their own (4577; 4578 and TLS 4579) and keep their state in
# .peers/NAME.data/, so starting one after a crash or kill.sh brings back what it had saved
# (wipe.sh empties it).
#
# For each peer: logs to .peers/NAME.log, records the PID in .peers/NAME.pid, waits (bounded by
# SEQCHECK_PEER_START_TIMEOUT seconds, default 30) for readiness, checks that it listens on
# 127.0.0.1 only, and prints "NAME http://127.0.0.1:PORT". Exit status 0 means the peer answers.
#
# A peer recorded in the pid file is
#   - reused when it is healthy: it answers ListStreams within SEQCHECK_PEER_PROBE_TIMEOUT seconds
#     (default 5) and, left alone for 1 s, uses less than SEQCHECK_PEER_BUSY_PERCENT of a core
#     (default 50; "off" skips this test);
#   - replaced when it has died (stale pid file) or the PID now runs another program (the pid
#     file is dropped, nothing is signalled);
#   - stopped by its recorded PID (SIGTERM, SIGKILL after 1 s) and replaced when it is wedged:
#     alive but not answering, or answering while it spins (moto 5.2.5 loops forever at 100% CPU
#     after UpdateShardCount to 0). Processes this script did not start are never signalled.
# The busy test assumes nothing else is loading the peer meanwhile, which holds for a restart.
# Install first with scripts/peers/install.sh; stop with stop.sh.
#
# The tests look for SEQCHECK_KINESALITE_URL, SEQCHECK_KINESIS_MOCK_URL and SEQCHECK_MOTO_URL.
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

START_TIMEOUT="${SEQCHECK_PEER_START_TIMEOUT:-30}"
PROBE_TIMEOUT="${SEQCHECK_PEER_PROBE_TIMEOUT:-5}"
BUSY_PERCENT="${SEQCHECK_PEER_BUSY_PERCENT:-50}"
WEDGED_GRACE=1 # seconds between SIGTERM and SIGKILL for a wedged peer
[[ "$BUSY_PERCENT" == off || "$BUSY_PERCENT" =~ ^[0-9]+$ ]] ||
    die "SEQCHECK_PEER_BUSY_PERCENT must be a whole number or 'off', not '$BUSY_PERCENT'"

# A dummy SigV4 header (plus the X-Amz-Date it requires): no peer checks signatures, but moto picks
# the service from the credential scope (without it, it answers as S3), and the others reject
# requests that carry none.
AUTH_HEADER="Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

# port_busy PORT: true when something already listens on PORT (any address).
port_busy() {
    ss -ltnH "sport = :$1" | grep -q .
}

# wait_port_free PORT SECONDS: true once nothing listens on PORT, polling for at most SECONDS.
wait_port_free() {
    local deadline=$((SECONDS + $2))
    while port_busy "$1"; do
        ((SECONDS < deadline)) || return 1
        sleep 0.05
    done
}

# cpu_ticks PID: the user plus system CPU time PID has used so far, in clock ticks.
cpu_ticks() {
    local stat rest
    local -a f
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    rest="${stat##*) }"
    read -r -a f <<<"$rest"
    echo $((f[11] + f[12])) # fields 14 (utime) and 15 (stime); rest starts at field 3
}

# answers_list_streams PORT: true when a Kinesis ListStreams call gets HTTP 200 with a JSON body.
answers_list_streams() {
    local body
    body="$(curl --silent --show-error --max-time 2 --fail \
        -X POST "http://127.0.0.1:$1/" \
        -H 'Content-Type: application/x-amz-json-1.1' \
        -H 'X-Amz-Target: Kinesis_20131202.ListStreams' \
        -H "$AUTH_HEADER" \
        -H "X-Amz-Date: $(date -u +%Y%m%dT%H%M%SZ)" \
        --data '{}' 2>/dev/null)" || return 1
    [[ "$body" == *'"StreamNames"'* ]]
}

# check_loopback_only NAME PID: fails unless every listening socket of PID is on 127.0.0.1.
check_loopback_only() {
    local name="$1" pid="$2" addrs
    addrs="$(ss -ltnpH | awk -v tag="pid=$pid," 'index($0, tag) { print $4 }')"
    [[ -n "$addrs" ]] || die "$name (pid $pid) listens on no TCP port"
    if grep -qv '^127\.0\.0\.1:' <<<"$addrs"; then
        die "$name (pid $pid) listens beyond loopback: $(tr '\n' ' ' <<<"$addrs")"
    fi
}

# launch NAME LOG: starts the peer in the background, printing its PID. The peer gets a session of
# its own (setsid: a Ctrl-C or a process-group kill aimed at whoever ran this script, say the
# checker running its --restart-cmd, does not reach it) and does not inherit the lock on fd 9.
# Without job control a background job is no process-group leader, so env, setsid and nohup exec
# in place and $! is the peer's PID. A durable variant gets its data directory (created if
# missing, reused as it is otherwise); a standard peer is told to keep nothing.
launch() {
    local name="$1" log="$2" port tls_port data kl
    port="$(port_of "$name")"
    tls_port="$(tls_port_of "$name")"
    if is_durable "$name"; then
        data="$(data_dir_of "$name")"
        mkdir -p "$data"
    fi
    case "$(base_of "$name")" in
        kinesalite)
            local cli="$PEERS_DIR/kinesalite/node_modules/kinesalite/cli.js"
            local -a args=(--port "$port")
            [[ -f "$cli" ]] || die "kinesalite is not installed: run scripts/peers/install.sh kinesalite"
            # Transitions stay asynchronous but short, and the shard quota matches the model's.
            args+=(--createStreamMs 50 --deleteStreamMs 50 --updateStreamMs 50 --shardLimit 500)
            if [[ -n "${data:-}" ]]; then
                args+=(--path "$data") # a LevelDB store instead of memory
            fi
            setsid nohup node -r "$PEERS_SCRIPT_DIR/loopback.js" "$cli" "${args[@]}" \
                >"$log" 2>&1 </dev/null 9>&- &
            ;;
        kinesis-mock)
            kl="$PEERS_DIR/kinesis-local/node_modules/kinesis-local"
            [[ -f "$kl/main.js" ]] || die "kinesis-mock is not installed: run scripts/peers/install.sh kinesis-mock"
            # KINESIS_MOCK_CERT_PATH is needed even for plain HTTP; its default TLS port would
            # collide with kinesalite's, so both ports are set.
            local -a vars=(
                KINESIS_MOCK_CERT_PATH="$kl/server.json"
                KINESIS_MOCK_PLAIN_PORT="$port" KINESIS_MOCK_TLS_PORT="$tls_port"
                LOG_LEVEL=WARN SHARD_LIMIT=500
                CREATE_STREAM_DURATION=50ms DELETE_STREAM_DURATION=50ms
                SPLIT_SHARD_DURATION=50ms MERGE_SHARDS_DURATION=50ms UPDATE_SHARD_COUNT_DURATION=50ms
            )
            if [[ -n "${data:-}" ]]; then
                # A JSON snapshot of all streams, written every PERSIST_INTERVAL and loaded at
                # start-up when present.
                vars+=(SHOULD_PERSIST_DATA=true LOAD_DATA_IF_EXISTS=true PERSIST_PATH="$data"
                    PERSIST_FILE_NAME=kinesis-data.json PERSIST_INTERVAL="$KINESIS_MOCK_PERSIST_INTERVAL")
            else
                # Left to its defaults, kinesis-mock would load ./data/kinesis-data.json from the
                # caller's working directory if one were there.
                vars+=(SHOULD_PERSIST_DATA=false LOAD_DATA_IF_EXISTS=false)
            fi
            env "${vars[@]}" setsid nohup node -r "$PEERS_SCRIPT_DIR/loopback.js" "$kl/main.js" \
                >"$log" 2>&1 </dev/null 9>&- &
            ;;
        moto)
            local server="$PEERS_DIR/venv/bin/moto_server"
            [[ -x "$server" ]] || die "moto is not installed: run scripts/peers/install.sh moto"
            setsid nohup "$server" -H 127.0.0.1 -p "$port" >"$log" 2>&1 </dev/null 9>&- &
            ;;
    esac
    echo "$!"
}

# wait_ready NAME PID PORT LOG: polls every 50 ms until ready, the process dies, or the timeout
# (then stops the peer it just started).
wait_ready() {
    local name="$1" pid="$2" port="$3" log="$4"
    local deadline=$((SECONDS + START_TIMEOUT))
    until answers_list_streams "$port"; do
        if ! pid_alive "$pid"; then
            echo "--- last lines of $log ---" >&2
            tail -n 20 "$log" >&2 || true
            rm -f "$PEERS_DIR/$name.pid"
            die "$name (pid $pid) exited before it became ready"
        fi
        if ((SECONDS >= deadline)); then
            echo "--- last lines of $log ---" >&2
            tail -n 20 "$log" >&2 || true
            stop_pid "$name" "$pid"
            rm -f "$PEERS_DIR/$name.pid"
            die "$name (pid $pid) did not answer ListStreams on 127.0.0.1:$port within ${START_TIMEOUT}s; stopped it"
        fi
        sleep 0.05
    done
}

# snapshot_problem NAME: prints why kinesis-mock-durable's snapshot cannot be loaded, or nothing.
# kinesis-mock truncates the file and writes it anew in place, so a SIGKILL during a write leaves it
# empty or cut short, and kinesis-mock then dies at start-up (java.util.NoSuchElementException).
snapshot_problem() {
    local file
    [[ "$1" == kinesis-mock-durable ]] || return 0
    file="$(data_dir_of "$1")/kinesis-data.json"
    [[ -e "$file" ]] || return 0
    if [[ ! -s "$file" ]]; then
        echo "$file is empty"
    elif ! node -e 'JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"))' "$file" 2>/dev/null; then
        echo "$file is not valid JSON ($(stat -c %s "$file") bytes)"
    fi
}

# unfit_reason PID PORT: prints why a running peer cannot be reused, or nothing when it is healthy.
unfit_reason() {
    local pid="$1" port="$2" deadline before after pct
    deadline=$((SECONDS + PROBE_TIMEOUT))
    until answers_list_streams "$port"; do
        if ! pid_alive "$pid"; then
            echo "exited while being probed"
            return
        fi
        if ((SECONDS >= deadline)); then
            echo "is alive but did not answer ListStreams within ${PROBE_TIMEOUT}s (wedged)"
            return
        fi
        sleep 0.1
    done
    [[ "$BUSY_PERCENT" == off ]] && return
    before="$(cpu_ticks "$pid")" || return 0
    sleep 1
    after="$(cpu_ticks "$pid")" || return 0
    pct=$(((after - before) * 100 / $(getconf CLK_TCK)))
    if ((pct >= BUSY_PERCENT)); then
        echo "answers, but used ${pct}% of a core during 1 s with no requests (wedged: spinning)"
    fi
}

start_peer() {
    local name="$1" port tls_port pidfile log pid reason
    port="$(port_of "$name")"
    tls_port="$(tls_port_of "$name")"
    pidfile="$PEERS_DIR/$name.pid"
    log="$PEERS_DIR/$name.log"
    lock_peer "$name"
    if [[ -f "$pidfile" ]]; then
        pid="$(<"$pidfile")"
        if ! pid_alive "$pid"; then
            echo "$name: recorded pid $pid is gone; starting a new one" >&2
        elif ! started_by_us "$name" "$pid"; then
            echo "$name: recorded pid $pid now runs another program or the other variant of the same program; leaving it alone, starting a new one" >&2
        else
            reason="$(unfit_reason "$pid" "$port")"
            if [[ -z "$reason" ]]; then
                check_loopback_only "$name" "$pid"
                echo "$name http://127.0.0.1:$port"
                unlock_peer
                return
            fi
            echo "$name: pid $pid $reason; stopping it and starting a new one" >&2
            # A wedged peer gets little grace: kinesis-mock, for one, waits on SIGTERM for the
            # connections a stalled server left half-closed and never exits by itself.
            stop_pid "$name" "$pid" "$WEDGED_GRACE"
        fi
        rm -f "$pidfile"
    fi
    # A peer just stopped has released its ports by the time it is gone; the short wait only
    # covers the kernel catching up. Anything still listening there is not ours.
    wait_port_free "$port" 2 || die "port $port is already in use by another process; $name not started"
    if [[ -n "$tls_port" ]]; then
        wait_port_free "$tls_port" 2 ||
            die "port $tls_port is already in use by another process; $name not started"
    fi
    reason="$(snapshot_problem "$name")"
    [[ -z "$reason" ]] || die "$name: cannot start on its saved data: $reason, torn by a kill while" \
        "kinesis-mock was rewriting it; that state is lost (scripts/peers/wipe.sh $name, then start.sh, starts it empty)"
    pid="$(launch "$name" "$log")"
    echo "$pid" >"$pidfile"
    wait_ready "$name" "$pid" "$port" "$log"
    check_loopback_only "$name" "$pid"
    echo "$name http://127.0.0.1:$port"
    unlock_peer
}

main() {
    local peers peer
    peers="$(peers_from_arg "${1:-}")"
    command -v curl >/dev/null || die "curl is needed for the readiness check"
    command -v ss >/dev/null || die "ss (iproute2) is needed to check listening addresses"
    command -v setsid >/dev/null || die "setsid (util-linux) is needed to detach peers"
    command -v flock >/dev/null || die "flock (util-linux) is needed to serialize restarts"
    mkdir -p "$PEERS_DIR"
    for peer in $peers; do
        start_peer "$peer"
    done
}

main "$@"
