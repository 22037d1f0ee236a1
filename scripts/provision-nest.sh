#!/usr/bin/env bash
# provision-nest.sh - build (or reuse) a NEST simulator wheel with MPI, and an
# mpi4py wheel for the same MPI, and install both into a Python environment.
#
# One script for developers, CI and the Dockerfile, so that all three run the
# same NEST build.
#
# Usage
#   scripts/provision-nest.sh [--install-system-deps | --runtime-deps-only]
#                             [--print-cache-key] [-h|--help]
#
#   Developer, into the project venv (system packages already present):
#     PYTHON=.venv/bin/python scripts/provision-nest.sh
#   CI job / Dockerfile build stage (as root; also apt-installs build deps):
#     PYTHON=/path/to/python scripts/provision-nest.sh --install-system-deps
#   Dockerfile runtime stage (wheel cache copied over from the build stage;
#   installs runtime libraries only and never builds):
#     COPY --from=build /cache/wheels /cache/wheels
#     RUN HUMAM_WHEEL_CACHE=/cache/wheels scripts/provision-nest.sh --runtime-deps-only
#   CI cache: cache the directory $HUMAM_WHEEL_CACHE, keyed on the output of
#     scripts/provision-nest.sh --print-cache-key
#
# Options
#   --install-system-deps  apt-get install the build and runtime dependencies
#                          (compiler, cmake, GSL, Boost headers, libltdl, MPICH).
#   --runtime-deps-only    apt-get install only the runtime libraries (libgsl27,
#                          libltdl7, libgomp1, MPICH runtime); the wheels must
#                          already be in the cache - never builds.
#   --print-cache-key      print the cache keys (NEST, then mpi4py when MPI is
#                          ON) on one line and exit; needs PYTHON, and mpiexec
#                          on PATH when NEST_WITH_MPI=ON.
#
# Environment (defaults in brackets)
#   NEST_VERSION        NEST release to build [3.10.0]
#   NEST_WITH_MPI       ON or OFF [ON]
#   NEST_MODELS         model headers to compile in, separated by ';', ',' or
#                       whitespace, or "full" for NEST's complete model set
#                       [the minimal set this project uses, see DEFAULT_MODELS].
#                       Model names are accepted too: voltmeter -> multimeter,
#                       <name>_hpc / <name>_lbl -> <name>.  static_synapse is
#                       always added (the NEST kernel needs it, see below).
#   NEST_OPTIMIZE       compiler optimisation flags for NEST, separated by ';'
#                       [empty: the portable default of NEST's build]; part of
#                       the cache key (with the processor model and flags when
#                       they contain -march=native). scripts/setup-env.sh
#                       passes "-O3;-march=native;-ffp-contract=off".
#                       Flags that change floating-point results (-ffast-math,
#                       FMA contraction: add -ffp-contract=off with -march=...)
#                       change the spikes.
#   MPI4PY_VERSION      mpi4py release, built from source against the system
#                       MPI [4.1.2]
#   HUMAM_WHEEL_CACHE   wheel cache dir [${XDG_CACHE_HOME:-$HOME/.cache}/humam/wheels]
#   PYTHON              interpreter whose pip builds and installs [python3]
#   NEST_BUILD_JOBS     parallel compile jobs [$(nproc)]
#   NEST_BUILD_LOG_DIR  where build logs go [$HUMAM_WHEEL_CACHE/logs]
#
# Cache layout
#   $HUMAM_WHEEL_CACHE/<key>/<wheel>.whl (+ BUILD-INFO), one folder per key:
#   NEST:   nest<ver>-<mpi>-m<hash>-<pytag>-<platform>
#           e.g. nest3.10.0-mpich4-m2c5e11ff-cp311-linux_x86_64
#           <mpi> = MPI flavour + major version (mpich4, openmpi4, ...) or nompi;
#           <hash> = sha256 of the sorted model list (+ RECIPE_REV), or "full-r<RECIPE_REV>";
#           with NEST_OPTIMIZE set, "-o<sha256 of the flags>" follows it.
#   mpi4py: mpi4py<ver>-<mpi>-<pytag>-<platform>
#   A key folder appears only once its wheel is complete (built in a temp dir,
#   then renamed into place), so an interrupted build never leaves a half wheel.
#   The NEST sdist is kept under sdist/, build logs under logs/.
#   Ctrl-C (or killing the process group) stops a build, removes its temp dir
#   and publishes nothing; a TERM sent to this script's pid alone takes effect
#   only once the running pip build returns, and also publishes nothing.
#
# Why mpi4py is built from source: the PyPI mpi4py wheels link libmpi.so.12
# (the MPICH ABI name), which Debian's MPICH does not ship (it has
# libmpich.so.12), so `from mpi4py import MPI` fails with "libmpi.so.12:
# cannot open shared object file". Built against the system MPI it links
# libmpich.so.12 - the same library NEST uses.
#
# Model list notes (NEST 3.10 CMake: -Dwith-models=<header;header;...> is fed
# to build_support/generate_modelsmodule.py; one header can register several
# models):
#   multimeter.h     registers multimeter and voltmeter
#   static_synapse.h registers static_synapse, static_synapse_hpc, static_synapse_lbl
#   static_synapse   mandatory: the kernel falls back to "static_synapse" by name
#                    whenever a syn_spec has no synapse_model (conn_builder.cpp)
#                    and for spatial connections (connection_creator.cpp).
#   weight_recorder  always compiled (models/CMakeLists.txt, needed by
#                    CommonSynapseProperties); registered because humam records
#                    spikes through it (humam.simulation, step 9).
#   static_synapse_hom_w.h registers static_synapse_hom_w and its _hpc variant
#                    (the recording synapse).
# Build options: detailed timers on (NEST's time_update, time_gather_spike_data,
# time_deliver_spike_data, ... in the kernel status; humam writes them to run.json).
#
# Exit status: 0 on success; non-zero with an "ERROR:" line on any failure.

set -euo pipefail

DEFAULT_MODELS="iaf_psc_exp poisson_generator spike_generator spike_recorder weight_recorder multimeter static_synapse static_synapse_hom_w bernoulli_synapse"
MANDATORY_MODELS="static_synapse"
# Bump when the NEST build recipe (CMake options below) changes; part of the model hash.
RECIPE_REV=2

NEST_VERSION="${NEST_VERSION:-3.10.0}"
NEST_WITH_MPI="${NEST_WITH_MPI:-ON}"
NEST_MODELS="${NEST_MODELS:-$DEFAULT_MODELS}"
NEST_OPTIMIZE="${NEST_OPTIMIZE:-}"
MPI4PY_VERSION="${MPI4PY_VERSION:-4.1.2}"
PYTHON="${PYTHON:-python3}"
HUMAM_WHEEL_CACHE="${HUMAM_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/humam/wheels}"

log() { printf '[provision-nest] %s\n' "$*"; }
die() { printf '[provision-nest] ERROR: %s\n' "$*" >&2; exit 1; }
fmt_secs() { printf '%dm%02ds' $(($1 / 60)) $(($1 % 60)); }
usage() { sed -n '2,/^# Exit status/p' "$0" | sed 's/^# \{0,1\}//'; }

mode_deps=none
print_key=0
while [ $# -gt 0 ]; do
    case "$1" in
        --install-system-deps) mode_deps=build ;;
        --runtime-deps-only) mode_deps=runtime ;;
        --print-cache-key) print_key=1 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

case "$NEST_WITH_MPI" in
    ON|on|1|yes|YES|true|TRUE) NEST_WITH_MPI=ON ;;
    OFF|off|0|no|NO|false|FALSE) NEST_WITH_MPI=OFF ;;
    *) die "NEST_WITH_MPI must be ON or OFF, got '$NEST_WITH_MPI'" ;;
esac

t_script0=$(date +%s)

# ---------------------------------------------------------------- system deps
apt_install() {
    if command -v dpkg >/dev/null 2>&1 && dpkg -s "$@" >/dev/null 2>&1; then
        log "system packages present: $*"
        return 0
    fi
    command -v apt-get >/dev/null 2>&1 || die "apt-get not found: install the equivalents of: $*"
    local sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null 2>&1 || die "need root (or sudo) to apt-get install: $*"
        sudo="sudo"
    fi
    log "apt-get install $*"
    local t0
    t0=$(date +%s)
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq || die "apt-get update failed"
    $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
        || die "apt-get install failed for: $*"
    log "system packages ready ($(fmt_secs $(($(date +%s) - t0))))"
}

runtime_pkgs="libgsl27 libgslcblas0 libltdl7 libgomp1"
build_pkgs="build-essential cmake ninja-build pkg-config libgsl-dev libboost-dev libltdl-dev"
if [ "$NEST_WITH_MPI" = ON ]; then
    runtime_pkgs="$runtime_pkgs libmpich12 mpich"
    build_pkgs="$build_pkgs libmpich-dev mpich"
fi

if [ "$mode_deps" = runtime ]; then
    # shellcheck disable=SC2086
    apt_install $runtime_pkgs
elif [ "$mode_deps" = build ]; then
    pkgs="$runtime_pkgs $build_pkgs"
    # Python headers are needed for the extensions; pull Debian's python3-dev
    # only when the target interpreter has none (i.e. it is Debian's python3).
    if command -v "$PYTHON" >/dev/null 2>&1 && ! "$PYTHON" -c \
        'import os,sys,sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"],"Python.h")))'; then
        pkgs="$pkgs python3-dev"
    fi
    # shellcheck disable=SC2086
    apt_install $pkgs
fi

# ---------------------------------------------------------------- interpreter
command -v "$PYTHON" >/dev/null 2>&1 || die "PYTHON='$PYTHON' not found"
PYTHON="$(command -v "$PYTHON")"
# Absolute, but not symlink-resolved (a venv's python must stay the venv's).
case "$PYTHON" in
    /*) ;;
    *) PYTHON="$(cd "$(dirname "$PYTHON")" && pwd)/$(basename "$PYTHON")" ;;
esac
"$PYTHON" -m pip --version >/dev/null 2>&1 || die "'$PYTHON -m pip' does not work"
read -r py_tag py_plat < <("$PYTHON" -c '
import sys, sysconfig
impl = {"cpython": "cp", "pypy": "pp"}.get(sys.implementation.name, sys.implementation.name)
plat = sysconfig.get_platform().replace("-", "_").replace(".", "_")
print(f"{impl}{sys.version_info[0]}{sys.version_info[1]} {plat}")') || die "cannot query $PYTHON"

# ---------------------------------------------------------------- MPI flavour
mpi_tag=nompi
mpiexec_cmd=()
if [ "$NEST_WITH_MPI" = ON ]; then
    command -v mpiexec >/dev/null 2>&1 \
        || die "NEST_WITH_MPI=ON but no mpiexec on PATH: install MPICH (apt: libmpich-dev mpich) or pass --install-system-deps"
    mpi_ver_text="$(mpiexec --version 2>&1 || true)"
    case "$mpi_ver_text" in
        *HYDRA*)
            mpi_flavour=mpich
            mpi_major=$(printf '%s\n' "$mpi_ver_text" | sed -n 's/^ *Version: *\([0-9]*\).*/\1/p' | head -n1) ;;
        *"Open MPI"*|*OpenRTE*|*"Open RTE"*)
            mpi_flavour=openmpi
            mpi_major=$(printf '%s\n' "$mpi_ver_text" | sed -n 's/.*(Open[^)]*) *\([0-9]*\).*/\1/p' | head -n1) ;;
        *Intel*)
            mpi_flavour=intelmpi
            mpi_major=$(printf '%s\n' "$mpi_ver_text" | sed -n 's/.*Version *\([0-9]*\).*/\1/p' | head -n1) ;;
        *) mpi_flavour=unknownmpi; mpi_major="" ;;
    esac
    mpi_tag="${mpi_flavour}${mpi_major}"
    mpiexec_cmd=(mpiexec)
    # MPICH's hydra runs as root and oversubscribes without flags; Open MPI does not.
    if [ "$mpi_flavour" = openmpi ]; then
        mpiexec_cmd+=(--oversubscribe)
        if [ "$(id -u)" = 0 ]; then mpiexec_cmd+=(--allow-run-as-root); fi
    fi
fi

# ---------------------------------------------------------------- model list
normalize_models() {
    # split on ; , whitespace; map model names to the header that registers them
    printf '%s\n' "$1" | tr ';,' '  ' | tr -s '[:space:]' '\n' | sed -e '/^$/d' -e '/^#/d' \
        | sed -e 's/_hpc$//' -e 's/_lbl$//' -e 's/^voltmeter$/multimeter/'
}

if [ "$NEST_MODELS" = full ]; then
    models_sorted=full
    models_cmake=""
    model_tag="mfull-r${RECIPE_REV}"
else
    # shellcheck disable=SC2086
    models_sorted="$( { normalize_models "$NEST_MODELS"; printf '%s\n' $MANDATORY_MODELS; } | LC_ALL=C sort -u)"
    models_cmake="$(printf '%s\n' "$models_sorted" | paste -sd';' -)"
    model_tag="m$(printf 'recipe=%s\n%s\n' "$RECIPE_REV" "$models_sorted" | sha256sum | cut -c1-8)"
fi
if [ -n "$NEST_OPTIMIZE" ]; then
    optimize_id="$NEST_OPTIMIZE"
    # a build for "this" processor belongs to this processor (a shared home may serve other nodes)
    case "$NEST_OPTIMIZE" in
        *native*) optimize_id="$optimize_id $(grep -m1 -E '^(model name|flags)' /proc/cpuinfo 2>/dev/null; grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)" ;;
    esac
    model_tag="${model_tag}-o$(printf '%s' "$optimize_id" | sha256sum | cut -c1-8)"
fi

nest_key="nest${NEST_VERSION}-${mpi_tag}-${model_tag}-${py_tag}-${py_plat}"
mpi4py_key="mpi4py${MPI4PY_VERSION}-${mpi_tag}-${py_tag}-${py_plat}"
if [ "$print_key" = 1 ]; then
    if [ "$NEST_WITH_MPI" = ON ]; then printf '%s %s\n' "$nest_key" "$mpi4py_key"; else printf '%s\n' "$nest_key"; fi
    exit 0
fi

mkdir -p "$HUMAM_WHEEL_CACHE" || die "cannot create cache dir $HUMAM_WHEEL_CACHE"
HUMAM_WHEEL_CACHE="$(cd "$HUMAM_WHEEL_CACHE" && pwd -P)"
log_dir="${NEST_BUILD_LOG_DIR:-$HUMAM_WHEEL_CACHE/logs}"

log "NEST ${NEST_VERSION}, MPI ${NEST_WITH_MPI} (${mpi_tag}), python ${PYTHON} (${py_tag}, ${py_plat})"
if [ "$models_sorted" = full ]; then
    log "models: full NEST model set"
else
    log "models: $(printf '%s\n' "$models_sorted" | paste -sd' ' -)"
fi
log "wheel cache: $HUMAM_WHEEL_CACHE"

# ---------------------------------------------------------------- cleanup
work_dir=""
stage_dir=""
smoke_dir=""
cleanup() {
    if [ -n "$stage_dir" ]; then rm -rf "$stage_dir"; fi
    if [ -n "$work_dir" ]; then rm -rf "$work_dir"; fi
    if [ -n "$smoke_dir" ]; then rm -rf "$smoke_dir"; fi
    return 0
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ---------------------------------------------------------------- builders
# A builder gets: $1 = output dir for the wheel, $2 = log file; it may append
# lines to the file named by $build_info_extra for BUILD-INFO.

build_nest() {
    local dist="$1" build_log="$2"
    command -v cmake >/dev/null 2>&1 || die "cmake not found (pass --install-system-deps, or apt-get install cmake)"
    command -v c++ >/dev/null 2>&1 || die "no C++ compiler (pass --install-system-deps, or apt-get install build-essential)"
    command -v gsl-config >/dev/null 2>&1 || die "GSL headers not found (pass --install-system-deps, or apt-get install libgsl-dev)"
    if [ "$NEST_WITH_MPI" = ON ]; then
        command -v mpicxx >/dev/null 2>&1 || die "mpicxx not found (pass --install-system-deps, or apt-get install libmpich-dev)"
    fi
    # The CMake options go through `pip wheel -C` (--config-settings), which pip has since 23.1.
    local pip_version
    pip_version="$("$PYTHON" -m pip --version | sed -n 's/^pip \([0-9][0-9]*\.[0-9][0-9]*\).*/\1/p')"
    case "$pip_version" in
        ""|[0-9].*|1[0-9].*|2[0-2].*|23.0) die "pip ${pip_version:-?} of $PYTHON is too old to pass CMake options (-C needs pip >= 23.1): $PYTHON -m pip install --upgrade pip" ;;
    esac

    local sdist_dir="$HUMAM_WHEEL_CACHE/sdist"
    local sdist_name="nest_simulator-${NEST_VERSION}.tar.gz"
    local sdist="$sdist_dir/$sdist_name"
    if [ ! -f "$sdist" ]; then
        log "downloading the nest-simulator==${NEST_VERSION} sdist"
        mkdir -p "$sdist_dir" "$work_dir/sdist"
        # --no-binary for NEST only: with :all: pip would also compile the build requirements
        # it needs to read the sdist's metadata (Cython: about 10 minutes) from source.
        "$PYTHON" -m pip download -q --no-deps --no-binary nest-simulator \
            "nest-simulator==${NEST_VERSION}" -d "$work_dir/sdist" >>"$build_log" 2>&1 \
            || die "pip download of the nest-simulator==${NEST_VERSION} sdist failed; log: $build_log"
        [ -f "$work_dir/sdist/$sdist_name" ] || die "the sdist download did not produce $sdist_name"
        mv -f "$work_dir/sdist/$sdist_name" "$sdist.part.$$"
        mv -f "$sdist.part.$$" "$sdist"
    fi

    if [ "$models_sorted" != full ]; then
        local listing missing="" m
        listing="$(tar -tzf "$sdist" | sed -n 's|^[^/]*/models/\([^/]*\)\.h$|\1|p')" \
            || die "cannot read $sdist"
        for m in $models_sorted; do
            printf '%s\n' "$listing" | grep -qx "$m" || missing="$missing $m"
        done
        [ -z "$missing" ] || die "unknown NEST model header(s):${missing} (expected names of models/<name>.h in NEST ${NEST_VERSION})"
    fi

    local cfg=(-C "cmake.define.with-mpi=${NEST_WITH_MPI}" -C "cmake.define.with-detailed-timers=ON")
    if [ -n "$models_cmake" ]; then cfg+=(-C "cmake.define.with-models=${models_cmake}"); fi
    if [ -n "$NEST_OPTIMIZE" ]; then cfg+=(-C "cmake.define.with-optimize=${NEST_OPTIMIZE}"); fi
    # TMPDIR keeps pip's unpacked source, build env and build tree in work_dir.
    TMPDIR="$work_dir" CMAKE_BUILD_PARALLEL_LEVEL="${NEST_BUILD_JOBS:-$(nproc)}" \
        "$PYTHON" -m pip wheel -v --no-deps --no-cache-dir -w "$dist" "${cfg[@]}" "$sdist" \
        >>"$build_log" 2>&1 || return $?
    {
        echo "nest_version=$NEST_VERSION"
        echo "with_mpi=$NEST_WITH_MPI"
        echo "models=${models_cmake:-full}"
        echo "optimize=${NEST_OPTIMIZE:-default}"
        echo "recipe_rev=$RECIPE_REV"
    } >>"$build_info_extra"
}

build_mpi4py() {
    local dist="$1" build_log="$2"
    command -v mpicc >/dev/null 2>&1 || die "mpicc not found (pass --install-system-deps, or apt-get install libmpich-dev)"
    TMPDIR="$work_dir" "$PYTHON" -m pip wheel -v --no-deps --no-cache-dir --no-binary mpi4py \
        -w "$dist" "mpi4py==${MPI4PY_VERSION}" >>"$build_log" 2>&1 || return $?
    echo "mpi4py_version=$MPI4PY_VERSION" >>"$build_info_extra"
}

# ---------------------------------------------------------------- cache
cached_wheel() {  # $1 = key dir, $2 = wheel name prefix
    local w
    for w in "$1/$2"-*.whl; do
        if [ -f "$w" ]; then printf '%s\n' "$w"; return 0; fi
    done
    return 1
}

# ensure_wheel <label> <key> <wheel name prefix> <builder>
# Sets got_wheel and got_state (hit|miss).
ensure_wheel() {
    local label="$1" key="$2" prefix="$3" builder="$4"
    local key_dir="$HUMAM_WHEEL_CACHE/$key"
    if got_wheel="$(cached_wheel "$key_dir" "$prefix")"; then
        got_state=hit
        log "$label: cache hit ($key)"
        return 0
    fi
    if [ "$mode_deps" = runtime ]; then
        die "$label: no cached wheel under $key_dir, and --runtime-deps-only never builds: run the build stage with the same NEST_VERSION, NEST_WITH_MPI, NEST_MODELS, MPI4PY_VERSION, MPI and Python"
    fi
    # Serialize concurrent builds of the same key (flock is optional).
    local lock_fd=""
    if command -v flock >/dev/null 2>&1; then
        exec {lock_fd}>"$HUMAM_WHEEL_CACHE/.${key}.lock"
        flock "$lock_fd" || die "cannot lock $HUMAM_WHEEL_CACHE/.${key}.lock"
        if got_wheel="$(cached_wheel "$key_dir" "$prefix")"; then
            got_state=hit
            log "$label: cache hit ($key, built concurrently)"
            exec {lock_fd}>&-
            return 0
        fi
    fi
    got_state=miss
    mkdir -p "$log_dir"
    local build_log
    build_log="$log_dir/${key}.$(date +%Y%m%dT%H%M%S).log"
    : >"$build_log"
    work_dir="$(mktemp -d "${TMPDIR:-/tmp}/humam-${label}-build.XXXXXX")"
    build_info_extra="$work_dir/build-info"
    : >"$build_info_extra"
    log "$label: cache miss ($key); building, log: $build_log"

    local t0 t1 rc=0
    t0=$(date +%s)
    "$builder" "$work_dir/dist" "$build_log" || rc=$?
    t1=$(date +%s)
    if [ "$rc" != 0 ]; then
        printf '%s\n' "----- last 40 lines of $build_log -----" >&2
        tail -n 40 "$build_log" >&2 || true
        die "$label: build failed after $(fmt_secs $((t1 - t0))) (exit $rc); full log: $build_log"
    fi
    log "$label: build time $(fmt_secs $((t1 - t0))) ($((t1 - t0)) s)"

    local built
    built="$(cached_wheel "$work_dir/dist" "$prefix")" \
        || die "$label: build finished but produced no $prefix wheel; log: $build_log"
    stage_dir="$(mktemp -d "$HUMAM_WHEEL_CACHE/.stage-${key}.XXXXXX")"
    mv "$built" "$stage_dir/"
    {
        echo "key=$key"
        cat "$build_info_extra"
        echo "mpi=$mpi_tag"
        echo "python=$py_tag $py_plat"
        echo "build_seconds=$((t1 - t0))"
        echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
        echo "log=$build_log"
    } >"$stage_dir/BUILD-INFO"
    chmod 755 "$stage_dir"
    # Publish atomically: one rename within the cache filesystem.
    if [ -e "$key_dir" ]; then
        log "$label: $key was published meanwhile; keeping that one"
    else
        mv "$stage_dir" "$key_dir" || die "$label: cannot move the wheel into $key_dir"
    fi
    stage_dir=""
    rm -rf "$work_dir"
    work_dir=""
    if [ -n "$lock_fd" ]; then exec {lock_fd}>&-; fi
    got_wheel="$(cached_wheel "$key_dir" "$prefix")" || die "$label: wheel missing from $key_dir after the build"
}

ensure_wheel nest "$nest_key" nest_simulator build_nest
nest_wheel="$got_wheel"
nest_state="$got_state"
log "nest wheel: $nest_wheel ($(du -h "$nest_wheel" | cut -f1))"
to_install=("$nest_wheel")
if [ "$NEST_WITH_MPI" = ON ]; then
    ensure_wheel mpi4py "$mpi4py_key" mpi4py build_mpi4py
    mpi4py_wheel="$got_wheel"
    log "mpi4py wheel: $mpi4py_wheel ($(du -h "$mpi4py_wheel" | cut -f1))"
    to_install+=("$mpi4py_wheel")
fi

# ---------------------------------------------------------------- install
t_inst0=$(date +%s)
"$PYTHON" -m pip install -q --force-reinstall --no-deps "${to_install[@]}" \
    || die "pip install of ${to_install[*]} failed"
# Second pass installs only what is missing (NEST's own Python dependencies).
"$PYTHON" -m pip install -q "${to_install[@]}" \
    || die "pip install of the dependencies of ${to_install[*]} failed"
log "install time: $(fmt_secs $(($(date +%s) - t_inst0)))"

# ---------------------------------------------------------------- smoke tests
smoke_dir="$(mktemp -d "${TMPDIR:-/tmp}/humam-nest-smoke.XXXXXX")"
run_timeout=()
if command -v timeout >/dev/null 2>&1; then run_timeout=(timeout 300); fi
smoke_fail() {
    printf '%s\n' "----- stderr -----" >&2
    tail -n 30 "$smoke_dir/stderr" >&2 || true
    die "$1"
}

# NEST 3.10 has no SLI any more; build flags are in the kernel status
# ("build_info", also exposed as nest.build_info).
info="$(cd "$smoke_dir" && PYNEST_QUIET=1 "${run_timeout[@]}" "$PYTHON" -c '
import nest
bi = nest.GetKernelStatus("build_info")
print("version=%s have_mpi=%s have_threads=%s have_gsl=%s" % (nest.__version__, bi["have_mpi"], bi["have_threads"], bi["have_gsl"]))
' 2>"$smoke_dir/stderr")" || smoke_fail "smoke test 'import nest' failed"
info="$(printf '%s\n' "$info" | grep '^version=' | tail -n1)"
log "smoke: $info"
case "$info" in
    "version=$NEST_VERSION "*) ;;
    *) smoke_fail "installed NEST is not version $NEST_VERSION: '$info'" ;;
esac
want_mpi=False
if [ "$NEST_WITH_MPI" = ON ]; then want_mpi=True; fi
case "$info" in
    *"have_mpi=$want_mpi"*) ;;
    *) smoke_fail "expected have_mpi=$want_mpi: '$info'" ;;
esac

if [ "$NEST_WITH_MPI" = ON ]; then
    out="$(cd "$smoke_dir" && PYNEST_QUIET=1 "${run_timeout[@]}" "${mpiexec_cmd[@]}" -n 2 "$PYTHON" -c '
import nest
nest.verbosity = nest.VerbosityLevel.ERROR
n = nest.Create("iaf_psc_exp", 4)
nest.Connect(n, n, {"rule": "fixed_indegree", "indegree": 2})
nest.Simulate(5.0)
from mpi4py import MPI
assert MPI.COMM_WORLD.Get_size() == nest.num_processes
if nest.Rank() == 0:
    print("num_processes=%d" % nest.num_processes)
' 2>"$smoke_dir/stderr")" || smoke_fail "2-rank smoke test (${mpiexec_cmd[*]} -n 2) failed"
    out="$(printf '%s\n' "$out" | grep '^num_processes=' || true)"
    [ "$out" = "num_processes=2" ] || smoke_fail "2-rank smoke test: expected num_processes=2 from rank 0, got '${out}'"
    log "smoke: ${mpiexec_cmd[*]} -n 2 -> $out, mpi4py agrees"
fi

log "done in $(fmt_secs $(($(date +%s) - t_script0))): nest cache $nest_state, wheel $nest_wheel"
