#!/usr/bin/env bash
# Starts Kinesis-compatible peers on 127.0.0.1 and waits until each answers ListStreams.
#
# Usage: scripts/peers/start.sh kinesalite|kinesis-mock|moto|all
#
# For each peer: logs to .peers/NAME.log, records the PID in .peers/NAME.pid, waits (bounded by
# SEQCHECK_PEER_START_TIMEOUT seconds, default 30) for readiness, checks that it listens on
# 127.0.0.1 only, and prints "NAME http://127.0.0.1:PORT". A peer already started by this script
# and still running is reused. Install first with scripts/peers/install.sh; stop with stop.sh.
#
# The tests look for SEQCHECK_KINESALITE_URL, SEQCHECK_KINESIS_MOCK_URL and SEQCHECK_MOTO_URL.
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

START_TIMEOUT="${SEQCHECK_PEER_START_TIMEOUT:-30}"

# A dummy SigV4 header (plus the X-Amz-Date it requires): no peer checks signatures, but moto picks
# the service from the credential scope (without it, it answers as S3), and the others reject
# requests that carry none.
AUTH_HEADER="Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/kinesis/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=0000000000000000000000000000000000000000000000000000000000000000"

# is_running PIDFILE: true when the pid file names a live process.
is_running() {
    local pid
    [[ -f "$1" ]] || return 1
    pid="$(<"$1")"
    [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null
}

# port_busy PORT: true when something already listens on PORT (any address).
port_busy() {
    ss -ltnH "sport = :$1" | grep -q .
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

# launch NAME LOG: starts the peer in the background, printing its PID.
launch() {
    local name="$1" log="$2" kl
    case "$name" in
        kinesalite)
            local cli="$PEERS_DIR/kinesalite/node_modules/kinesalite/cli.js"
            [[ -f "$cli" ]] || die "kinesalite is not installed: run scripts/peers/install.sh kinesalite"
            # Transitions stay asynchronous but short, and the shard quota matches the model's.
            nohup node -r "$PEERS_SCRIPT_DIR/loopback.js" "$cli" --port "$KINESALITE_PORT" \
                --createStreamMs 50 --deleteStreamMs 50 --updateStreamMs 50 --shardLimit 500 \
                >"$log" 2>&1 </dev/null &
            ;;
        kinesis-mock)
            kl="$PEERS_DIR/kinesis-local/node_modules/kinesis-local"
            [[ -f "$kl/main.js" ]] || die "kinesis-mock is not installed: run scripts/peers/install.sh kinesis-mock"
            # KINESIS_MOCK_CERT_PATH is needed even for plain HTTP; its default TLS port would
            # collide with kinesalite's, so both ports are set.
            KINESIS_MOCK_CERT_PATH="$kl/server.json" \
                KINESIS_MOCK_PLAIN_PORT="$KINESIS_MOCK_PORT" \
                KINESIS_MOCK_TLS_PORT="$KINESIS_MOCK_TLS_PORT" \
                LOG_LEVEL=WARN SHARD_LIMIT=500 \
                CREATE_STREAM_DURATION=50ms DELETE_STREAM_DURATION=50ms \
                SPLIT_SHARD_DURATION=50ms MERGE_SHARDS_DURATION=50ms UPDATE_SHARD_COUNT_DURATION=50ms \
                nohup node -r "$PEERS_SCRIPT_DIR/loopback.js" "$kl/main.js" \
                >"$log" 2>&1 </dev/null &
            ;;
        moto)
            local server="$PEERS_DIR/venv/bin/moto_server"
            [[ -x "$server" ]] || die "moto is not installed: run scripts/peers/install.sh moto"
            nohup "$server" -H 127.0.0.1 -p "$MOTO_PORT" >"$log" 2>&1 </dev/null &
            ;;
    esac
    echo "$!"
}

# wait_ready NAME PID PORT LOG: polls every 50 ms until ready, the process dies, or the timeout.
wait_ready() {
    local name="$1" pid="$2" port="$3" log="$4"
    local deadline=$((SECONDS + START_TIMEOUT))
    until answers_list_streams "$port"; do
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "--- last lines of $log ---" >&2
            tail -n 20 "$log" >&2 || true
            die "$name (pid $pid) exited before it became ready"
        fi
        if ((SECONDS >= deadline)); then
            echo "--- last lines of $log ---" >&2
            tail -n 20 "$log" >&2 || true
            kill -TERM "$pid" 2>/dev/null || true
            die "$name (pid $pid) did not answer ListStreams on 127.0.0.1:$port within ${START_TIMEOUT}s; stopped it"
        fi
        sleep 0.05
    done
}

start_peer() {
    local name="$1" port pidfile log pid
    port="$(port_of "$name")"
    pidfile="$PEERS_DIR/$name.pid"
    log="$PEERS_DIR/$name.log"
    if is_running "$pidfile"; then
        pid="$(<"$pidfile")"
    else
        rm -f "$pidfile"
        port_busy "$port" && die "port $port is already in use by another process; $name not started"
        if [[ "$name" == kinesis-mock ]] && port_busy "$KINESIS_MOCK_TLS_PORT"; then
            die "port $KINESIS_MOCK_TLS_PORT is already in use by another process; $name not started"
        fi
        pid="$(launch "$name" "$log")"
        echo "$pid" >"$pidfile"
    fi
    wait_ready "$name" "$pid" "$port" "$log"
    check_loopback_only "$name" "$pid"
    echo "$name http://127.0.0.1:$port"
}

main() {
    local peers peer
    peers="$(peers_from_arg "${1:-}")"
    command -v curl >/dev/null || die "curl is needed for the readiness check"
    command -v ss >/dev/null || die "ss (iproute2) is needed to check listening addresses"
    mkdir -p "$PEERS_DIR"
    for peer in $peers; do
        start_peer "$peer"
    done
}

main "$@"
