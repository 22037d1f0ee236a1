#!/bin/sh
# Smoke test of the humam image, run by Apptainer's %test and by container/check.sh:
#   1. humam and its pinned dependencies import; the image's build information;
#   2. NEST imports and was built with MPI (prints "have_mpi: True");
#   3. a 2-rank NEST run under the image's mpiexec, where NEST and mpi4py agree on the ranks.
# Needs no network, no $HOME and no writable image: it works in a temporary folder under $TMPDIR
# (default /tmp) and runs as any user. Exit status 0 when everything passes.
set -eu

tmp=$(mktemp -d "${TMPDIR:-/tmp}/humam-smoke.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
cd "$tmp"
export PYNEST_QUIET=1

echo "== humam image smoke test (uid $(id -u), $(nproc) cores)"
if [ -f /opt/humam/IMAGE-INFO ]; then sed 's/^/image: /' /opt/humam/IMAGE-INFO; fi
humam --version

python - <<'EOF'
import importlib.metadata as md

import nest
from mpi4py import MPI

for dist in ("humam", "nest-simulator", "mpi4py", "numpy", "scipy", "numba", "h5py", "matplotlib", "doit"):
    print(f"{dist}: {md.version(dist)}")
build = nest.GetKernelStatus("build_info")
print(f"have_mpi: {build['have_mpi']}")
print(f"have_threads: {build['have_threads']}")
print("mpi library: " + " ".join(MPI.Get_library_version().split("\n")[0].split()))
if not build["have_mpi"]:
    raise SystemExit("FAIL: NEST was built without MPI")
EOF

# mpiexec forwards stdin to rank 0 only: the script goes to a file.
cat > two_ranks.py <<'EOF'
import nest
from mpi4py import MPI

nest.verbosity = nest.VerbosityLevel.ERROR
nest.local_num_threads = 1
neurons = nest.Create("iaf_psc_exp", 8, params={"I_e": 400.0})
nest.Connect(neurons, neurons, {"rule": "fixed_indegree", "indegree": 2}, {"weight": 5.0, "delay": 1.0})
recorder = nest.Create("spike_recorder")
nest.Connect(neurons, recorder)
nest.Simulate(100.0)
comm = MPI.COMM_WORLD
spikes = comm.allreduce(recorder.n_events, op=MPI.SUM)
assert comm.Get_size() == nest.num_processes == 2, (comm.Get_size(), nest.num_processes)
assert comm.Get_rank() == nest.Rank()
if comm.Get_rank() == 0:
    print(f"2-rank run: num_processes={nest.num_processes}, mpi4py size={comm.Get_size()}, spikes={spikes}")
EOF
out=$(mpiexec -n 2 python two_ranks.py) || { echo "FAIL: the 2-rank NEST run under mpiexec failed" >&2; exit 1; }
echo "$out" | grep '^2-rank run:' || { echo "FAIL: no result line from rank 0: $out" >&2; exit 1; }
echo "smoke test: OK"
