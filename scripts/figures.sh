#!/usr/bin/env bash
# Install everything needed and run the pipeline (doit) at the default laptop scale.
# Extra arguments go to doit (e.g. `bash scripts/figures.sh list --status`).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
source "$root/scripts/setup-env.sh"
cd "$root"
doit "$@"
