#!/usr/bin/env bash
# Installs Kinesis-compatible peers into the project's git-ignored .peers/ directory.
#
# Usage: scripts/peers/install.sh [kinesalite|kinesis-mock|moto|all]   (default: all)
#
# A durable variant (kinesalite-durable, kinesis-mock-durable) runs its standard peer's package,
# so naming it installs that package; there is no second copy.
#
# Idempotent: a peer whose pinned version is already present is skipped.
# Needs node/npm (kinesalite, kinesis-mock) and python3 with venv (moto).
set -euo pipefail

# shellcheck source=scripts/peers/common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

# npm_installed DIR PACKAGE VERSION: true when DIR holds PACKAGE at exactly VERSION.
npm_installed() {
    local manifest="$1/node_modules/$2/package.json"
    [[ -f "$manifest" ]] || return 1
    node -e 'process.exit(require(process.argv[1]).version === process.argv[2] ? 0 : 1)' \
        "$manifest" "$3"
}

install_npm_peer() {
    local dir="$1" package="$2" version="$3"
    if npm_installed "$dir" "$package" "$version"; then
        echo "$package@$version already installed in $dir"
        return
    fi
    command -v npm >/dev/null || die "npm is needed to install $package"
    mkdir -p "$dir"
    echo "installing $package@$version into $dir"
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "$package@$version"
    npm_installed "$dir" "$package" "$version" || die "$package@$version missing after npm install"
}

install_moto() {
    local venv="$PEERS_DIR/venv"
    if [[ -x "$venv/bin/moto_server" ]] &&
        "$venv/bin/python" -c 'import flask, flask_cors' 2>/dev/null &&
        [[ "$("$venv/bin/python" -c 'import moto; print(moto.__version__)' 2>/dev/null)" == "$MOTO_VERSION" ]]; then
        echo "moto $MOTO_VERSION already installed in $venv"
        return
    fi
    command -v python3 >/dev/null || die "python3 is needed to install moto"
    echo "installing moto==$MOTO_VERSION, flask, flask-cors into $venv"
    [[ -x "$venv/bin/pip" ]] || python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check \
        "moto==$MOTO_VERSION" flask flask-cors
    [[ -x "$venv/bin/moto_server" ]] || die "moto_server missing after pip install"
}

main() {
    local peers peer
    peers="$(peers_from_arg "${1:-all}")"
    mkdir -p "$PEERS_DIR"
    for peer in $peers; do
        case "$(base_of "$peer")" in
            kinesalite) install_npm_peer "$PEERS_DIR/kinesalite" kinesalite "$KINESALITE_VERSION" ;;
            kinesis-mock) install_npm_peer "$PEERS_DIR/kinesis-local" kinesis-local "$KINESIS_LOCAL_VERSION" ;;
            moto) install_moto ;;
        esac
    done
}

main "$@"
