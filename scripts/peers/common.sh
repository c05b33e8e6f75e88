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
