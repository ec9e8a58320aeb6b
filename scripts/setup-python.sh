#!/usr/bin/env bash
# Creates the tests' Python environment .venv/ at the repository root (idempotent): Debian's
# python3 with its packages (torch) plus the PyPI packages the tests read files with.
# tensorboard: tests/log/ reads etna's event files back with TensorBoard's own reader.
# safetensors: tests/io/ reads etna's .safetensors files back with the reference package, and
# tests/reference/make_safetensors_fixtures.py writes the fixtures etna must load.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$root/.venv"
packages=(tensorboard==2.20.0 safetensors==0.8.0)

if ! /usr/bin/python3 -c 'import venv, ensurepip' 2>/dev/null; then
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  echo "setup-python: installing python3-venv"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends python3-venv
fi
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
# pip skips what is already installed at the pinned version, so a rerun is quick. Without PyPI
# the build and the tests still work: the tests that need these packages skip and say so.
if "$venv/bin/pip" install --quiet --disable-pip-version-check "${packages[@]}"; then
  echo "setup-python: $venv ready ($("$venv/bin/python" -c 'import tensorboard, safetensors; print("tensorboard", tensorboard.__version__, "safetensors", safetensors.__version__)'))"
else
  echo "setup-python: warning: could not install ${packages[*]} from PyPI; the tests that read" \
       "files back with them will be skipped" >&2
fi
