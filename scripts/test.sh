#!/usr/bin/env bash
# Install everything needed (scripts/setup-env.sh) and run the test suite. Extra arguments go to
# pytest. With the default MPI-enabled NEST the two-rank test must run (HUMAM_REQUIRE_MPI=1); with
# HUMAM_NEST=pypi it is skipped.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/setup-env.sh"
cd "$root"
if [ "${HUMAM_NEST:-mpi}" != pypi ]; then export HUMAM_REQUIRE_MPI=1; fi
python -m pytest "$@"
