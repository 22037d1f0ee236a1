#!/usr/bin/env bash
# Install everything needed and run the test suite. Extra arguments go to pytest.
#
# NEST: by default NEST 3.10 is built with MPI (MPICH) from the PyPI sdist by
# scripts/provision-nest.sh (about 15 minutes once; the wheel is cached in
# ~/.cache/humam/wheels), so that the MPI tests run. HUMAM_NEST=pypi installs the
# PyPI wheel instead (threads only, a minute); the MPI tests are then skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/setup-env.sh"
cd "$root"
if [ "${HUMAM_NEST:-mpi}" = pypi ]; then
  python -m pip install --quiet nest-simulator==3.10.0
else
  deps=()
  if [ "$(id -u)" = 0 ] || command -v sudo >/dev/null 2>&1; then deps=(--install-system-deps); fi
  PYTHON="$(command -v python)" bash "$root/scripts/provision-nest.sh" "${deps[@]}"
  export HUMAM_REQUIRE_MPI=1
fi
python -m pytest "$@"
