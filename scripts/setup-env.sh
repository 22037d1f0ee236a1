#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install humam into it with the
# pinned versions of constraints.txt. Sourced by scripts/test.sh and scripts/figures.sh.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${HUMAM_VENV:-$root/.venv}"
python="${PYTHON:-python3}"
extras="${HUMAM_EXTRAS:-test}"

if [ ! -x "$venv/bin/python" ]; then
  echo "creating virtual environment $venv" >&2
  "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install --quiet --upgrade pip
"$venv/bin/python" -m pip install --quiet -c "$root/constraints.txt" -e "$root[$extras]"
export PATH="$venv/bin:$PATH"
