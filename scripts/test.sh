#!/usr/bin/env bash
# Install everything needed and run the test suite. Extra arguments go to pytest.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/setup-env.sh"
cd "$root"
python -m pytest "$@"
