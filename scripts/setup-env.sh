#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv, install humam into it with the
# pinned versions of constraints.txt, and install NEST. Sourced by scripts/test.sh and
# scripts/figures.sh.
#
# NEST: by default NEST 3.10 is built with MPI (MPICH) from the PyPI sdist by
# scripts/provision-nest.sh (about 15 minutes once; the wheel is cached in
# ~/.cache/humam/wheels). HUMAM_NEST=pypi installs the PyPI wheel instead (threads only).
# The build is for this machine's processor (NEST_OPTIMIZE below: about 11 % faster simulation,
# the same spikes, benchmarks/README.md); set NEST_OPTIMIZE= (empty) for a portable build, as the
# container image does.
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

if [ "${HUMAM_NEST:-mpi}" = pypi ]; then
  "$venv/bin/python" -m pip install --quiet nest-simulator==3.10.0
else
  deps=()
  if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then deps=(--install-system-deps); fi
  NEST_OPTIMIZE="${NEST_OPTIMIZE--O3;-march=native;-ffp-contract=off}" \
    PYTHON="$venv/bin/python" bash "$root/scripts/provision-nest.sh" "${deps[@]}"
fi
