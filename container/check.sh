#!/usr/bin/env bash
# container/check.sh - build the humam image with podman and check it end to end on this machine.
#
# Steps (each timed; summary at the end):
#   base      a local Debian bookworm base image without registry access: debootstrap (minbase)
#             from this machine's apt mirror, then `podman import` (reused when present)
#   context   a snapshot of the working tree (tracked and untracked, not ignored files) as the
#             build context, plus the host's NEST/mpi4py wheel cache when present
#   build     podman build --build-arg BASE=<the local base> (the Dockerfile, unchanged)
#   inspect   OCI labels, image size, pip freeze, IMAGE-INFO; `podman save` to humam.tar (the
#             input of `apptainer build humam.sif Apptainer.def`)
#   apptainer-def  Apptainer.def parses with spython; its %environment and %test are extracted
#   smoke     the %environment + %test commands of Apptainer.def, run in the image read-only as
#             UID 4242 (prints have_mpi and the 2-rank smoke run)
#   tiny      `doit profile=tiny` in the image, read-only as UID 4242, raw data bind-mounted
#             read-only; every figure task must be up to date and have drawn its PNG
#   sim-1x2, sim-2x1, compare-2x1
#             humam simulate downscaled_ground --t-sim 200: 1 rank x 2 threads and
#             `mpiexec -n 2` x 1 thread inside the image; the spikes must be identical
#   hybrid, compare-hybrid
#             the host's mpiexec starts one container per rank (PMI over a port, host network,
#             IPC and PID namespaces); the spikes must equal the 1 x 2 run's
#
# Usage: container/check.sh [options]     (as root: rootful podman, debootstrap)
#   --work DIR         work folder: logs, outputs, build context [/var/tmp/humam-container-check]
#   --image NAME       image tag to build and test [localhost/humam:check]
#   --base NAME        use this base image instead of the debootstrap one
#   --fresh-base       re-create the debootstrap base image even if it exists
#   --no-wheel-cache   do not put the host wheel cache into the build context: NEST and mpi4py
#                      are built from source in the image (about 16 minutes on 2 cores)
#   --no-layer-cache   podman build --no-cache
#   --skip-build       test the existing --image (steps base, context and build are skipped)
#   --nest-models M    passed as --build-arg NEST_MODELS=M (e.g. full)
#   -h, --help
# Environment
#   HUMAM_DATA_DIR     raw-data mirror, bind-mounted read-only [<repo>/../shared/humam-data;
#                      without one the image downloads the data]
#   HUMAM_WHEEL_CACHE  host wheel cache [${XDG_CACHE_HOME:-$HOME/.cache}/humam/wheels]
#   DEBIAN_MIRROR      apt mirror for debootstrap [first deb.debian.org-style URI in /etc/apt]
#
# The log is WORK/check.log (step logs in WORK/logs/); exit status 0 only if every step passed.

set -euo pipefail

# The whole script is one function, so that bash has read all of it before it runs (editing the
# file during a run cannot change the run).
main() {
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
work=/var/tmp/humam-container-check
image=localhost/humam:check
base=""
fresh_base=0
use_wheel_cache=1
layer_cache=1
skip_build=0
nest_models=""
test_uid=4242

usage() { sed -n '2,/^# The log is/p' "$0" | sed 's/^# \{0,1\}//'; }
while [ $# -gt 0 ]; do
    case "$1" in
        --work) work="$2"; shift ;;
        --image) image="$2"; shift ;;
        --base) base="$2"; shift ;;
        --fresh-base) fresh_base=1 ;;
        --no-wheel-cache) use_wheel_cache=0 ;;
        --no-layer-cache) layer_cache=0 ;;
        --skip-build) skip_build=1 ;;
        --nest-models) nest_models="$2"; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
    shift
done

mkdir -p "$work"
work="$(cd "$work" && pwd)"
rm -rf "$work/logs"
mkdir -p "$work/logs"
log="$work/check.log"
: >"$log"
exec > >(tee -a "$log") 2>&1

data_dir="${HUMAM_DATA_DIR:-$(cd "$repo/.." && pwd)/shared/humam-data}"
wheel_cache="${HUMAM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/humam/wheels}"
out="$work/out"
spy_venv="$work/spython-venv"

say() { printf '[check %s] %s\n' "$(date +%H:%M:%S)" "$*"; }
die() { failed=1; say "ERROR: $*"; exit 1; }

# ------------------------------------------------------------------ step bookkeeping
step_names=()
step_status=()
step_secs=()
failed=0

# run_step NAME QUIET CMD...: runs CMD (a function) with its output in WORK/logs/NN-NAME.log;
# QUIET=1 shows only the last lines in the main log (the build), QUIET=0 everything.
run_step() {
    local name="$1" quiet="$2"; shift 2
    local n=$(( ${#step_names[@]} + 1 ))
    local step_log
    step_log="$work/logs/$(printf '%02d' "$n")-$name.log"
    say "---- step $n: $name (log: $step_log)"
    local t0=$EPOCHREALTIME rc=0
    if [ "$quiet" = 1 ]; then
        "$@" >"$step_log" 2>&1 || rc=$?
        tail -n 15 "$step_log" | sed 's/^/    | /'
    else
        "$@" > >(tee "$step_log" | sed 's/^/    | /') 2>&1 || rc=$?
        wait $! 2>/dev/null || true
    fi
    local secs
    secs=$(awk -v a="$t0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    step_names+=("$name")
    step_secs+=("$secs")
    if [ "$rc" = 0 ]; then
        step_status+=("ok")
        say "---- step $n: $name: ok (${secs} s)"
    else
        step_status+=("FAILED($rc)")
        failed=1
        say "---- step $n: $name: FAILED with exit $rc after ${secs} s; see $step_log"
    fi
    return "$rc"
}

summary() {
    local i total=0
    echo
    say "==== summary (log: $log)"
    printf '    %-16s %-10s %9s\n' step status seconds
    for i in "${!step_names[@]}"; do
        printf '    %-16s %-10s %9s\n' "${step_names[$i]}" "${step_status[$i]}" "${step_secs[$i]}"
        total=$(awk -v a="$total" -v b="${step_secs[$i]}" 'BEGIN { printf "%.1f", a + b }')
    done
    printf '    %-16s %-10s %9s\n' total "" "$total"
    echo "    load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) cores; other jobs slow every step down)"
    echo
    grep -h -E '^(have_mpi|mpi library|2-rank run|run.json:|spikes identical|spikes DIFFER|image size|figures:|figure tasks|figure sidecars|labels:)' \
        "$work"/logs/*.log 2>/dev/null | sed 's/^/    /' || true
    if [ "$failed" = 0 ]; then say "RESULT: all steps passed"; else say "RESULT: FAILED"; fi
}
trap summary EXIT

# ------------------------------------------------------------------ preconditions
[ "$(id -u)" = 0 ] || die "run as root (rootful podman and debootstrap are needed)"
command -v podman >/dev/null || die "podman not found (apt-get install podman buildah runc fuse-overlayfs uidmap debootstrap)"
command -v mpiexec >/dev/null || die "mpiexec not found on the host (apt-get install mpich) - needed for the hybrid step"
host_mpi="$(mpiexec --version 2>&1 || true)"
[[ "$host_mpi" == *HYDRA* ]] || die "the host's mpiexec is not MPICH's hydra: the hybrid step needs the MPICH ABI"
git -C "$repo" rev-parse --git-dir >/dev/null 2>&1 || die "$repo is not a git checkout"

podman_run=(podman --runtime runc run --rm --ulimit nofile=10000:10000 --ulimit nproc=10000:10000)
# As Apptainer runs it: read-only, an arbitrary UID without a passwd entry, no $HOME.
ro_user=(--read-only --user "$test_uid:$test_uid")
mounts=(-v "$out:/out")
if [ -d "$data_dir" ]; then
    mounts+=(-v "$data_dir:/data:ro" -e HUMAM_DATA_DIR=/data)
else
    say "no raw-data mirror at $data_dir: the image downloads the raw data"
fi
# One persistent cache for all steps (downloads, lateral integrals), as the README recommends.
mounts+=(-e HUMAM_CACHE_DIR=/out/cache)

say "repository $repo ($(git -C "$repo" rev-parse --short HEAD)), work folder $work, image $image"
say "host: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo); $(podman --version); runc $(runc --version | sed -n 's/^runc version //p'); MPICH $(printf '%s\n' "$host_mpi" | sed -n 's/^ *Version: *//p'); load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ------------------------------------------------------------------ base image
debian_mirror() {
    if [ -n "${DEBIAN_MIRROR:-}" ]; then echo "$DEBIAN_MIRROR"; return; fi
    local m
    m=$(cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs: *\([^ ]*\/debian\)\/\{0,1\}$/\1/p' | head -n1)
    [ -n "$m" ] || m=$(sed -n 's/^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*\/debian\)\/\{0,1\} .*/\2/p' /etc/apt/sources.list 2>/dev/null | head -n1)
    echo "${m:-http://deb.debian.org/debian}"
}

make_base() {
    local mirror rootfs
    mirror="$(debian_mirror)"
    rootfs="$work/rootfs"
    command -v debootstrap >/dev/null || { echo "debootstrap not found (apt-get install debootstrap)"; return 1; }
    echo "debootstrap --variant=minbase bookworm from $mirror"
    rm -rf "$rootfs"
    debootstrap --variant=minbase bookworm "$rootfs" "$mirror"
    # apt sources as in Debian's images: the release, its updates and the security archive
    rm -f "$rootfs/etc/apt/sources.list"
    cat >"$rootfs/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: ${mirror%/debian}/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/*.log
    tar --numeric-owner -C "$rootfs" -c . \
        | podman import --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' - "$base"
    rm -rf "$rootfs"
    podman image inspect --format '{{.Id}} {{.Size}}' "$base"
}

if [ "$skip_build" = 0 ]; then
    if [ -z "$base" ]; then
        base="localhost/debian:bookworm-minbase"
        if [ "$fresh_base" = 1 ] || ! podman image exists "$base"; then
            run_step base 0 make_base || exit 1
        else
            say "base image $base exists ($(podman image inspect --format '{{.Created}}' "$base")); --fresh-base re-creates it"
        fi
    fi
fi

# ------------------------------------------------------------------ build context
context="$work/context"
make_context() {
    rm -rf "$context"
    mkdir -p "$context"
    # Tracked and untracked files that git does not ignore, as they are now (uncommitted edits
    # included); the Dockerfile's .dockerignore applies on top.
    (cd "$repo" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do if [ -f "$f" ]; then printf '%s\0' "$f"; fi; done \
        | tar --null -T - -cf -) | tar -C "$context" -xf -
    echo "context: $(find "$context" -type f | wc -l) files, $(du -sh "$context" | cut -f1)"
    mkdir -p "$context/container/wheels"
    if [ "$use_wheel_cache" = 1 ] && [ -d "$wheel_cache" ]; then
        local d n=0
        for d in "$wheel_cache"/nest*-cp311-* "$wheel_cache"/mpi4py*-cp311-* "$wheel_cache"/sdist; do
            if [ -d "$d" ]; then cp -a "$d" "$context/container/wheels/"; n=$((n + 1)); fi
        done
        echo "wheel cache: $n folder(s) from $wheel_cache:"
        (cd "$context/container/wheels" && ls -1d -- */ 2>/dev/null) || true
    else
        echo "wheel cache: none (NEST and mpi4py are built from source in the image)"
    fi
}

build_image() {
    local revision version source
    revision="$(git -C "$repo" rev-parse HEAD)"
    if [ -n "$(git -C "$repo" status --porcelain --untracked-files=no)" ]; then revision="$revision-dirty"; fi
    version="$(sed -n 's/^__version__ *= *"\(.*\)"/\1/p' "$repo/src/humam/__init__.py" | head -n1)"
    source="$(git -C "$repo" remote get-url origin 2>/dev/null || echo "file://$repo")"
    local args=(--runtime runc --ulimit nofile=10000:10000 --ulimit nproc=10000:10000
                --build-arg "BASE=$base" --build-arg "VERSION=$version"
                --build-arg "REVISION=$revision" --build-arg "SOURCE=$source"
                -t "$image" -f "$context/Dockerfile")
    if [ -n "$nest_models" ]; then args+=(--build-arg "NEST_MODELS=$nest_models"); fi
    # pip in the build trusts what pip on this host trusts (e.g. a TLS-intercepting proxy's CA)
    local ca="${PIP_CERT:-$(python3 -m pip config get global.cert 2>/dev/null || true)}"
    if [ -n "$ca" ] && [ -f "$ca" ]; then
        args+=(--secret "id=pip-ca,src=$ca")
        echo "pip CA bundle for the build (build secret pip-ca): $ca"
    fi
    if [ "$layer_cache" = 0 ]; then args+=(--no-cache); fi
    echo "podman build ${args[*]} $context"
    podman build "${args[@]}" "$context"
}

if [ "$skip_build" = 0 ]; then
    run_step context 0 make_context || exit 1
    run_step build 1 build_image || exit 1
else
    podman image exists "$image" || die "--skip-build: image $image does not exist"
fi

# ------------------------------------------------------------------ inspect
inspect_image() {
    local size
    size=$(podman image inspect --format '{{.Size}}' "$image")
    echo "image size: $(awk -v s="$size" 'BEGIN { printf "%.0f MB (%.2f GiB)", s / 1e6, s / 2^30 }') ($image)"
    echo "labels: $(podman image inspect --format '{{json .Labels}}' "$image")"
    echo "entrypoint: $(podman image inspect --format '{{json .Config.Entrypoint}}' "$image"), user: '$(podman image inspect --format '{{.Config.User}}' "$image")'"
    "${podman_run[@]}" "${ro_user[@]}" "$image" cat /opt/humam/IMAGE-INFO
    echo "pip freeze (/opt/venv/pip-freeze.txt):"
    "${podman_run[@]}" "${ro_user[@]}" "$image" cat /opt/venv/pip-freeze.txt | sed 's/^/  /'
    rm -f "$work/humam.tar"
    podman save --format docker-archive -o "$work/humam.tar" "$image"
    echo "docker-archive for apptainer build: $work/humam.tar ($(du -h "$work/humam.tar" | cut -f1))"
}
run_step inspect 0 inspect_image || exit 1

# ------------------------------------------------------------------ Apptainer.def
def_env=""
def_test=""
check_def() {
    if [ ! -x "$spy_venv/bin/python" ] || ! "$spy_venv/bin/python" -c 'import spython' 2>/dev/null; then
        python3 -m venv "$spy_venv" && "$spy_venv/bin/pip" install -q spython
    fi
    "$spy_venv/bin/python" -c 'import importlib.metadata as m; print("spython", m.version("spython"))'
    "$spy_venv/bin/python" "$repo/container/defcheck.py" "$repo/Apptainer.def" summary
    "$spy_venv/bin/spython" recipe --parser singularity "$repo/Apptainer.def" >"$work/Apptainer.def.as-Dockerfile"
    echo "spython recipe (as a Dockerfile): $work/Apptainer.def.as-Dockerfile"
}
run_step apptainer-def 0 check_def || exit 1
def_env="$("$spy_venv/bin/python" "$repo/container/defcheck.py" "$repo/Apptainer.def" environment)"
def_test="$("$spy_venv/bin/python" "$repo/container/defcheck.py" "$repo/Apptainer.def" test)"

# ------------------------------------------------------------------ outputs
rm -rf "$out"
mkdir -p "$out"
chown "$test_uid:$test_uid" "$out"

# ------------------------------------------------------------------ smoke (= Apptainer %test)
smoke() {
    echo "running %environment + %test of Apptainer.def in the image (read-only, uid $test_uid):"
    printf '%s\n' "$def_test" | sed 's/^/  %test: /'
    "${podman_run[@]}" "${ro_user[@]}" "$image" sh -c "$def_env
$def_test"
}
run_step smoke 0 smoke || true

# ------------------------------------------------------------------ tiny profile
tiny() {
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" -w /out "$image" \
        doit profile=tiny out=/out/tiny
    echo "== verification"
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" -w /out "$image" \
        doit list --all --status profile=tiny out=/out/tiny >"$work/tiny-status.txt"
    sed 's/^/  /' "$work/tiny-status.txt"
    local tasks stale n_stale pngs
    tasks=$(grep -c -E '^[A-Z] figure:' "$work/tiny-status.txt" || true)
    stale=$(grep -E '^[^U] figure:' "$work/tiny-status.txt" || true)
    n_stale=$(printf '%s' "$stale" | grep -c . || true)
    pngs=$(find "$out/tiny/figures" -maxdepth 1 -name '*.png' 2>/dev/null | wc -l)
    local owners
    owners=$(find "$out/tiny/figures" -maxdepth 1 -name '*.png' -printf '%u:%g\n' 2>/dev/null | sort -u | paste -sd' ' -)
    echo "figure tasks: $tasks, up to date: $((tasks - n_stale))"
    echo "figures: $pngs PNG files in $out/tiny/figures, written by uid:gid $owners (read-only image, uid $test_uid)"
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" "$image" python -c '
import json, pathlib, collections
status = collections.Counter(json.loads(p.read_text()).get("status", "?") for p in sorted(pathlib.Path("/out/tiny/figures").glob("*.json")))
print("figure sidecars by status: " + ", ".join(f"{k} {v}" for k, v in sorted(status.items())))'
    [ "$tasks" -gt 0 ] || { echo "FAIL: doit lists no figure tasks"; return 1; }
    [ -z "$stale" ] || { echo "FAIL: figure tasks not up to date after the run:"; echo "$stale"; return 1; }
    [ "$pngs" -ge "$tasks" ] || { echo "FAIL: fewer PNG files ($pngs) than figure tasks ($tasks)"; return 1; }
}
run_step tiny 0 tiny || true

# ------------------------------------------------------------------ 2 ranks vs 2 threads
sim_args=(humam simulate downscaled_ground --t-sim 200)
run_info() {  # run_info <folder under /out>: MPI processes and threads from run.json
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" "$image" python -c '
import json, pathlib, sys
runs = sorted(pathlib.Path(sys.argv[1]).glob("*/*/run.json"))
assert len(runs) == 1, runs
r = json.loads(runs[0].read_text())
print("run.json: " + " ".join(f"{k}={r[k]}" for k in ("mpi_processes", "threads", "virtual_processes", "spikes")))
sys.exit(0 if r["mpi_processes"] == int(sys.argv[2]) else 1)' "/out/$1" "$2"
}
run_1x2() {
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" "$image" \
        "${sim_args[@]}" --threads 2 --out /out/sim-1x2
    run_info sim-1x2 1
}
run_2x1() {
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" "$image" \
        mpiexec -n 2 "${sim_args[@]}" --threads 1 --out /out/sim-2x1
    run_info sim-2x1 2
}
compare() {  # compare <folder A> <folder B> (under /out)
    "${podman_run[@]}" "${ro_user[@]}" "${mounts[@]}" "$image" \
        python /opt/humam/container/compare_spikes.py "/out/$1" "/out/$2"
}
run_step sim-1x2 0 run_1x2 || true
run_step sim-2x1 0 run_2x1 || true
run_step compare-2x1 0 compare sim-2x1 sim-1x2 || true

# ------------------------------------------------------------------ hybrid: host MPI, one container per rank
hybrid() {
    # container/podman-rank.sh passes hydra's PMI socket (PMI_FD) and PMI_RANK/PMI_SIZE into each
    # container, with the host's network, IPC, PID and UTS namespaces (see its header).
    echo "host: mpiexec -n 2 container/podman-rank.sh ... -- $image ${sim_args[*]} --threads 1"
    PODMAN_GLOBAL_OPTIONS="--runtime runc" mpiexec -n 2 "$repo/container/podman-rank.sh" \
        --ulimit nofile=10000:10000 --ulimit nproc=10000:10000 "${ro_user[@]}" "${mounts[@]}" -- \
        "$image" "${sim_args[@]}" --threads 1 --out /out/sim-hybrid
    run_info sim-hybrid 2
}
run_step hybrid 0 hybrid || true
run_step compare-hybrid 0 compare sim-hybrid sim-1x2 || true

[ "$failed" = 0 ]
}

main "$@"
exit
