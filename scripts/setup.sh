#!/usr/bin/env bash
# Installs every Debian package that laplex's build, tests and apps need.
# Idempotent: packages already present are skipped by apt. Downloads nothing
# but Debian packages (and, with --python, PyPI test tools into .venv).
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config
  libopenblas-openmp-dev libfftw3-dev libyaml-cpp-dev libspdlog-dev libfmt-dev
  nlohmann-json3-dev zlib1g-dev libstb-dev libcli11-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libopenmpi-dev openmpi-bin
  python3 python3-venv python3-numpy python3-torch python3-matplotlib
  dataset-fashion-mnist mate-backgrounds
)

sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then sudo_cmd=(sudo); fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${sudo_cmd[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup: all Debian packages present"
fi

# Python test tools that Debian does not ship (the safetensors reader) go into
# a virtual environment that can also see Debian's torch and numpy.
if [ "${1:-}" = "--python" ]; then
  here=$(cd "$(dirname "$0")/.." && pwd)
  if [ ! -x "$here/.venv/bin/python" ]; then
    /usr/bin/python3 -m venv --system-site-packages "$here/.venv"
  fi
  "$here/.venv/bin/python" -c "import safetensors" 2>/dev/null ||
    "$here/.venv/bin/python" -m pip install -q safetensors
fi
