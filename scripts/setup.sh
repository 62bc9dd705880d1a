#!/usr/bin/env bash
# Create .venv with faceboard and its pinned dependencies. Idempotent: re-running with an
# unchanged pyproject.toml does nothing. Needs only Python 3.11 and pip.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3.11}
command -v "$PY" >/dev/null || PY=python3
VENV=.venv
STAMP=$VENV/.faceboard-installed
want=$(sha256sum pyproject.toml scripts/setup.sh | sha256sum | cut -c1-16)
# Headless Chromium + chromedriver for the browser tests (Debian packages; checked on every run).
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "faceboard: installing chromium and chromium-driver (apt)"
    apt_in() { DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends chromium chromium-driver >/dev/null; }
    apt_in 2>/dev/null || { apt-get update -q >/dev/null && apt_in; } ||
      echo "faceboard: apt-get could not install chromium: browser tests will be skipped (and fail under CI=true)"
  else
    echo "faceboard: no chromium/chromedriver: browser tests will be skipped (install: apt-get install chromium chromium-driver, as root)"
  fi
fi
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ]; then
  echo "faceboard: environment up to date ($VENV)"; exit 0
fi
pip_q() { "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@" 2>&1 | grep -v "^WARNING: Location" || true; }
[ -x "$VENV/bin/python" ] || "$PY" -m venv "$VENV"
echo "faceboard: installing into $VENV (first time: a few minutes)"
# setuptools<81 keeps pkg_resources, which pyiqa's CLIP path imports.
pip_q --upgrade "pip>=24" "setuptools>=68,<81" wheel
# 1) torch pair first, so nothing later pulls a second torch.
pip_q torch==2.14.1 torchvision==0.29.1
# 2) basicsr is sdist-only and must build against the torch above.
pip_q --no-build-isolation basicsr==1.4.2
# 3) faceboard itself with every pinned dependency, editable.
pip_q --no-build-isolation -e ".[test]"
"$VENV/bin/python" -c "import torch, torchvision, faceboard; print('faceboard', faceboard.__version__, '| torch', torch.__version__)"
echo "$want" > "$STAMP"
