# Sourced by bin/run, bin/test and bin/lock: make .venv from requirements.txt (every package
# pinned with its hashes, compiled from requirements.in by bin/lock), again when it changes.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3.11}"
command -v "$PYTHON" >/dev/null || PYTHON=python3
if [ ! -x .venv/bin/python ]; then
    "$PYTHON" -m venv .venv
fi
stamp=".venv/.requirements.sha256"
if ! sha256sum --status -c "$stamp" 2>/dev/null; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r requirements.txt
    sha256sum requirements.txt > "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
