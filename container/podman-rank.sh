#!/bin/sh
# One MPI rank in its own podman container, started by the host's MPICH mpiexec (hydra): the
# workstation version of `srun apptainer exec humam.sif ...` (the hybrid model).
#
#   mpiexec -n 2 container/podman-rank.sh [PODMAN-RUN-OPTIONS... --] IMAGE COMMAND [ARGS...]
#
# e.g.
#   mpiexec -n 2 container/podman-rank.sh --read-only -v "$PWD/run:/work" -- \
#       humam:0.1.0 humam simulate downscaled_ground --threads 1 --out /work/out
#
# The rank reaches hydra through PMI: hydra hands each rank a connected socket in PMI_FD; it is
# moved to fd 3 and passed into the container with --preserve-fds, together with PMI_RANK and
# PMI_SIZE (as srun's PMI-2 plugin does on a cluster) and hydra's MPI_LOCAL*/MPIR_CVAR_*
# variables. With `mpiexec -pmi-port` the ranks connect to PMI_PORT instead (no descriptor to
# pass; but then PMI_RANK/PMI_SIZE are not set and humam cannot tell rank 0 from the others
# before NEST starts). The containers share the host's network, IPC, PID and UTS namespaces, so
# MPICH sees one node and uses shared memory between them. The image's MPICH (4.x) must match
# the host's ABI. PODMAN (default podman) and PODMAN_GLOBAL_OPTIONS (e.g. "--runtime runc") are
# read from the environment.
set -eu
[ $# -ge 1 ] || { sed -n "2,10p" "$0" >&2; exit 2; }

if [ -z "${PMI_FD:-}" ] && [ -z "${PMI_PORT:-}" ]; then
    echo "podman-rank.sh: no PMI_FD or PMI_PORT: start it with MPICH's mpiexec" >&2
    exit 2
fi

# podman run options up to "--" (if there is one), then the image and the command.
has_sep=0
for arg in "$@"; do
    if [ "$arg" = "--" ]; then has_sep=1; break; fi
done
n_opts=0
if [ "$has_sep" = 1 ]; then
    for arg in "$@"; do
        [ "$arg" = "--" ] && break
        n_opts=$((n_opts + 1))
    done
fi

fds=""
if [ -n "${PMI_FD:-}" ]; then
    if [ "$PMI_FD" != 3 ]; then
        eval "exec 3>&$PMI_FD"
        PMI_FD=3
        export PMI_FD
    fi
    fds="--preserve-fds 1"
fi

# Rebuild "$@" as: global options, run, our options, the user's options, the image and command.
i=0
for arg in "$@"; do
    if [ "$i" = 0 ]; then
        set --
        # shellcheck disable=SC2086
        set -- ${PODMAN_GLOBAL_OPTIONS:-} run --rm --network host --ipc host --pid host --uts host \
            $fds -e 'PMI_*' -e 'MPI_LOCAL*' -e 'MPIR_CVAR_*'
    fi
    i=$((i + 1))
    if [ "$has_sep" = 1 ] && [ "$i" = $((n_opts + 1)) ]; then continue; fi  # the "--"
    set -- "$@" "$arg"
done
exec "${PODMAN:-podman}" "$@"
