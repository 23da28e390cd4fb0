# Shared set-up steps for scripts/test and scripts/run-demo (sourced, not run).

SYSTEM_PACKAGES=(python3-venv ffmpeg nginx libnginx-mod-rtmp faketime chromium redis-server)

install_system_packages() {
    local missing=()
    for package in "${SYSTEM_PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" \
            || missing+=("$package")
    done
    if ((${#missing[@]})); then
        echo "Installing system packages: ${missing[*]}"
        local sudo=""
        [[ $(id -u) -eq 0 ]] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
}

start_local_services() {
    # PostgreSQL and Redis on 127.0.0.1, started if they are down.
    if ! pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null; then
        echo "Starting PostgreSQL"
        pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    fi
    if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
        echo "Starting Redis"
        redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    fi
}

install_python_env() {
    if [[ ! -x .venv/bin/python ]]; then
        python3 -m venv .venv
    fi
    .venv/bin/pip install -q --disable-pip-version-check -e ".[test]"
    install_player_assets
}

install_player_assets() {
    # hls.js comes pinned from npm (package-lock.json) and is served as a
    # static file: copy it where Django's static files finder looks.
    if ! command -v npm >/dev/null; then
        local sudo=""
        [[ $(id -u) -eq 0 ]] || sudo="sudo"
        $sudo apt-get update -qq
        DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq npm >/dev/null
    fi
    npm ci --no-audit --no-fund --loglevel=error
    mkdir -p static/vendor
    cp node_modules/hls.js/dist/hls.min.js static/vendor/hls.min.js
}
