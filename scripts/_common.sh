# Shared by the scripts in this folder: locations, service checks, virtualenv setup.
# shellcheck shell=bash
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${AIOCONDUCTOR_VENV:-$ROOT/.venv}"
PYTHON_BIN="${PYTHON:-python3}"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

port_open() { # host port
  "$PYTHON_BIN" - "$1" "$2" <<'PY'
import socket, sys
s = socket.socket()
s.settimeout(1)
sys.exit(0 if s.connect_ex((sys.argv[1], int(sys.argv[2]))) == 0 else 1)
PY
}

require_services() { # --start: try to start what is down (needs root)
  local start="${1:-}" missing=0
  if ! port_open 127.0.0.1 3306; then
    if [ "$start" = "--start" ] && [ "$(id -u)" = 0 ] && command -v mariadbd >/dev/null 2>&1; then
      say "starting MariaDB"
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
    else
      echo "MariaDB is not reachable on 127.0.0.1:3306." >&2
      echo "  start it with: start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd" >&2
      missing=1
    fi
  fi
  if ! port_open 127.0.0.1 5672; then
    if [ "$start" = "--start" ] && [ "$(id -u)" = 0 ] && command -v rabbitmq-server >/dev/null 2>&1; then
      say "starting RabbitMQ"
      rabbitmq-server -detached
    else
      echo "RabbitMQ is not reachable on 127.0.0.1:5672." >&2
      echo "  start it with: rabbitmq-server -detached" >&2
      missing=1
    fi
  fi
  [ "$missing" = 0 ] || exit 1
  for _ in $(seq 1 60); do
    port_open 127.0.0.1 3306 && port_open 127.0.0.1 5672 && return 0
    sleep 1
  done
  echo "MariaDB or RabbitMQ did not come up within 60 s" >&2
  exit 1
}

ensure_venv() { # extras, e.g. "dev"
  local extras="${1:-}"
  local marker="$VENV/.aioconductor-installed${extras:+-$extras}"
  if [ ! -x "$VENV/bin/python" ]; then
    say "creating $VENV"
    "$PYTHON_BIN" -m venv "$VENV"
  fi
  if [ ! -f "$marker" ] || [ "$ROOT/pyproject.toml" -nt "$marker" ]; then
    say "installing aioconductor${extras:+[$extras]} into $VENV"
    "$VENV/bin/pip" install --quiet --upgrade pip
    "$VENV/bin/pip" install --quiet -e "$ROOT${extras:+[$extras]}"
    touch "$marker"
  fi
}

ensure_mysqlclient_build_deps() { # nova's venv builds mysqlclient from source
  if command -v mysql_config >/dev/null 2>&1 || pkg-config --exists mysqlclient 2>/dev/null \
     || pkg-config --exists libmariadb 2>/dev/null; then
    return 0
  fi
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    say "installing libmariadb-dev and pkg-config (to build mysqlclient for nova's venv)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libmariadb-dev pkg-config >/dev/null
  else
    echo "nova's virtualenv needs the MariaDB client headers: apt-get install libmariadb-dev pkg-config" >&2
    exit 1
  fi
}
