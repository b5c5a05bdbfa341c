#!/usr/bin/env bash
# Install what Digit Lab needs: Debian packages that are missing (redis-server for the
# training queue, dataset-fashion-mnist), then the pinned Python packages into .venv.
# `--dev` adds the test tools and Chromium. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

dev=no
[ "${1:-}" = "--dev" ] && dev=yes

sudo=""
if [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null; then sudo=sudo; fi
packages=()
command -v python3 >/dev/null || packages+=(python3)
python3 -c "import ensurepip" 2>/dev/null || packages+=(python3-venv)  # Debian ships venv apart
command -v redis-server >/dev/null || packages+=(redis-server)
# Fashion-MNIST (core/fashion.py reads it from /usr/share/datasets/fashion-mnist).
[ -d /usr/share/datasets/fashion-mnist ] || packages+=(dataset-fashion-mnist)
if [ "$dev" = yes ] && [ ! -x /usr/bin/chromium ]; then packages+=(chromium); fi
# The tests' private PostgreSQL servers (scripts/harness.py: postgres_server), Debian's.
if [ "$dev" = yes ] && ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then packages+=(postgresql); fi
if [ ${#packages[@]} -gt 0 ]; then
    echo "installing Debian packages: ${packages[*]}"
    $sudo apt-get update -qq
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
requirements=requirements.txt
[ "$dev" = yes ] && requirements=requirements-dev.txt
.venv/bin/python -m pip install -q --disable-pip-version-check -r "$requirements"
