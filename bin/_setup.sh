# Shared set-up for bin/up and bin/test (sourced, not run).
#
# Installs only what is missing, and remembers what it did with stamp files so
# that the second and later runs take seconds:
#   .venv/.avr-deps          hash of pyproject.toml + the Python version
#   node_modules/.avr-stamp  hash of package.json + package-lock.json
# Debian packages are installed with apt-get (as root, or through sudo) only
# when a needed one is absent.

set -euo pipefail

AVR_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$AVR_ROOT/.venv"
PY="$VENV/bin/python"
export PIP_DISABLE_PIP_VERSION_CHECK=1
export DEBIAN_FRONTEND=noninteractive

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
warn() { printf '\033[1;33m!!\033[0m %s\n' "$*" >&2; }
die() { printf '\033[1;31mxx\033[0m %s\n' "$*" >&2; exit 1; }

as_root() {
    if [ "$(id -u)" -eq 0 ]; then
        "$@"
    elif command -v sudo >/dev/null 2>&1; then
        sudo "$@"
    else
        die "需要 root 权限执行：$* / needs root (or sudo) to run: $*"
    fi
}

as_postgres() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        sudo -u postgres "$@"
    fi
}

_apt_updated=0
# apt_ensure PKG...: install the Debian packages that are not installed yet.
apt_ensure() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    command -v apt-get >/dev/null 2>&1 || die "缺少软件包 ${missing[*]}，且本机没有 apt-get / missing ${missing[*]} and no apt-get (Debian 12 expected)"
    say "安装 Debian 软件包 / installing Debian packages: ${missing[*]}"
    if [ "$_apt_updated" -eq 0 ]; then
        as_root apt-get update -qq
        _apt_updated=1
    fi
    as_root apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

_hash() { { cat "$@" 2>/dev/null || true; } | sha256sum | cut -d' ' -f1; }

# The machine's Python 3.11 (Debian 12's /usr/bin/python3.11, or one on PATH).
_find_python() {
    local candidate
    for candidate in "${AVR_PYTHON:-}" "$(command -v python3.11 || true)" /usr/bin/python3.11 "$(command -v python3 || true)"; do
        [ -n "$candidate" ] && [ -x "$candidate" ] || continue
        if "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
            echo "$candidate"
            return 0
        fi
    done
    return 1
}

setup_python() {
    local base
    if ! base="$(_find_python)"; then
        apt_ensure python3 python3-venv
        base="$(_find_python)" || die "找不到 Python 3.11 / Python 3.11 not found"
    fi
    if [ ! -x "$PY" ] || ! "$PY" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null; then
        if ! "$base" -c 'import ensurepip, venv' 2>/dev/null; then
            apt_ensure python3-venv python3.11-venv
        fi
        say "创建虚拟环境 / creating .venv with $base"
        rm -rf "$VENV"
        "$base" -m venv "$VENV"
    fi
    local want have=""
    want="$(_hash "$AVR_ROOT/pyproject.toml")-$("$PY" -c 'import sys; print(sys.version.split()[0])')"
    [ -f "$VENV/.avr-deps" ] && have="$(cat "$VENV/.avr-deps")"
    if [ "$want" != "$have" ]; then
        say "安装 Python 依赖 / installing Python dependencies (pyproject.toml)"
        local req
        req="$(mktemp)"
        "$PY" - "$AVR_ROOT/pyproject.toml" >"$req" <<'PYEOF'
import sys
import tomllib

project = tomllib.load(open(sys.argv[1], "rb"))["project"]
deps = list(project["dependencies"])
for extra in project.get("optional-dependencies", {}).values():
    deps.extend(extra)
print("\n".join(deps))
PYEOF
        "$PY" -m pip install -q -r "$req"
        rm -f "$req"
        echo "$want" >"$VENV/.avr-deps"
    fi
}

setup_node() {
    [ -f "$AVR_ROOT/package.json" ] || return 0
    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
        apt_ensure nodejs npm
    fi
    local want have=""
    want="$(_hash "$AVR_ROOT/package.json" "$AVR_ROOT/package-lock.json")"
    [ -f "$AVR_ROOT/node_modules/.avr-stamp" ] && have="$(cat "$AVR_ROOT/node_modules/.avr-stamp")"
    [ "$want" = "$have" ] && return 0
    say "安装前端依赖 / installing front-end packages (npm)"
    (
        cd "$AVR_ROOT"
        if [ -f package-lock.json ]; then
            npm ci --no-audit --no-fund --loglevel=error || npm install --no-audit --no-fund --loglevel=error
        else
            npm install --no-audit --no-fund --loglevel=error
        fi
    )
    _hash "$AVR_ROOT/package.json" "$AVR_ROOT/package-lock.json" >"$AVR_ROOT/node_modules/.avr-stamp"
}

# print_exports FILE: a KEY=VALUE file (no quoting; # comments) as shell export lines, for
# eval "$(bin/ceph env)" and eval "$(bin/cluster env)".
print_exports() {
    local line
    while IFS= read -r line; do
        [ -n "$line" ] && [ "${line:0:1}" != "#" ] && printf 'export %s=%q\n' "${line%%=*}" "${line#*=}"
    done <"$1"
}
