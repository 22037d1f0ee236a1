# syntax=docker/dockerfile:1
#
# The humam image: NEST 3.10 built with MPI against MPICH, mpi4py for the same MPI, and humam
# with the pinned versions of constraints.txt in /opt/venv; the repository (dodo.py, profiles,
# experiments, paper_figures) in /opt/humam. Docker/podman run it locally; Apptainer converts it
# to a SIF file (Apptainer.def) for clusters, where `srun apptainer exec humam.sif humam simulate`
# runs one container per MPI rank with the host's process manager. See container/README.md.
#
#   podman build -t humam:latest \
#       --build-arg VERSION=0.1.0 --build-arg REVISION="$(git rev-parse HEAD)" .
#   (docker build: the same arguments)
#
# Build arguments
#   BASE            base image of both stages (Debian bookworm: the Python 3.11 and MPICH 4.0
#                   the NEST wheel is built for) [a pinned debian:bookworm slim tag]
#   NEST_MODELS     NEST models compiled in: empty = the models humam uses (fast build, small
#                   image), "full" = NEST's complete model set, or a list (provision-nest.sh)
#   NEST_VERSION, MPI4PY_VERSION   versions built from their PyPI source distributions
#   NEST_BUILD_JOBS parallel compile jobs (default: all cores)
#   PIP_VERSION     pip in /opt/venv (Debian's 23.0 cannot pass NEST's CMake options)
#   VERSION, REVISION, SOURCE      OCI labels: humam version, git commit, repository address
#
# Behind a TLS-intercepting proxy, give pip the proxy's CA bundle as a build secret (used only
# while building, never stored in the image):
#   podman build --secret id=pip-ca,src=/etc/ssl/certs/ca-certificates.crt ...
#
# Wheel cache: wheels found in container/wheels/ (same layout as HUMAM_WHEEL_CACHE, see
# scripts/provision-nest.sh) are reused when their cache key matches; otherwise NEST (about
# 11 minutes on 2 cores) and mpi4py (about 5 minutes) are built from source. The folder is empty
# in a checkout, so a plain build always builds from scratch.
#
# Runtime: the image needs no particular user, no $HOME and no writable root file system
# (Apptainer runs it read-only as the calling user); everything writable defaults to /tmp/humam
# (HUMAM_CACHE_DIR, NUMBA_CACHE_DIR, MPLCONFIGDIR), outputs go wherever --out / out= points.
# /tmp stays empty in the image: podman copies it into the tmpfs of a read-only container, and a
# root-owned /tmp/humam left by the build would not be writable for the user.

ARG BASE=docker.io/library/debian:bookworm-20250520-slim
ARG NEST_MODELS=
ARG NEST_VERSION=3.10.0
ARG MPI4PY_VERSION=4.1.2
ARG PIP_VERSION=26.3

# ------------------------------------------------------------------------------------ build
FROM ${BASE} AS build
ARG PIP_VERSION
ARG NEST_MODELS
ARG NEST_VERSION
ARG MPI4PY_VERSION
ARG NEST_BUILD_JOBS=
ARG DEBIAN_FRONTEND=noninteractive
ENV LANG=C.UTF-8 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1

RUN --mount=type=secret,id=pip-ca,required=false \
    apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && /opt/venv/bin/python -m pip install "pip==${PIP_VERSION}"

COPY scripts/provision-nest.sh /opt/humam-build/provision-nest.sh
COPY container/wheels/ /cache/wheels/

# Build (or reuse) the NEST and mpi4py wheels, install them into the build venv, smoke-test them
# (import, have_mpi, a 2-rank run), then keep only the two wheel folders for the runtime stage.
RUN --mount=type=secret,id=pip-ca,required=false \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && export HUMAM_WHEEL_CACHE=/cache/wheels PYTHON=/opt/venv/bin/python \
    && bash /opt/humam-build/provision-nest.sh --install-system-deps \
    && mkdir -p /wheels \
    && for key in $(bash /opt/humam-build/provision-nest.sh --print-cache-key); do \
           cp -a "/cache/wheels/$key" /wheels/; \
       done \
    && ls -l /wheels/*/

# ------------------------------------------------------------------------------------ source
# The checkout without the wheel cache (so no wheel ends up in a runtime layer).
FROM ${BASE} AS source
COPY . /opt/humam
RUN rm -rf /opt/humam/container/wheels \
    && chmod -R a+rX /opt/humam \
    && chmod a+rx /opt/humam/container/*.sh

# ------------------------------------------------------------------------------------ runtime
FROM ${BASE} AS runtime
ARG BASE
ARG PIP_VERSION
ARG NEST_MODELS
ARG NEST_VERSION
ARG MPI4PY_VERSION
ARG DEBIAN_FRONTEND=noninteractive

ENV PATH=/opt/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HUMAM_CACHE_DIR=/tmp/humam/cache \
    NUMBA_CACHE_DIR=/tmp/humam/numba \
    MPLCONFIGDIR=/tmp/humam/matplotlib \
    MPLBACKEND=Agg

RUN --mount=type=secret,id=pip-ca,required=false \
    apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates python3 python3-venv \
    && rm -rf /var/lib/apt/lists/* \
    && python3 -m venv /opt/venv \
    && if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && /opt/venv/bin/python -m pip install "pip==${PIP_VERSION}"

# The Python dependencies NEST pulls in are pinned by constraints.txt where it lists them.
COPY constraints.txt /opt/humam/constraints.txt
COPY scripts/provision-nest.sh /opt/humam-build/provision-nest.sh
# Runtime libraries only (GSL, libltdl, OpenMP, MPICH with mpiexec), then the wheels of the build
# stage and the same smoke test; never compiles.
RUN --mount=type=bind,from=build,source=/wheels,target=/cache/wheels \
    --mount=type=secret,id=pip-ca,required=false \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && export HUMAM_WHEEL_CACHE=/cache/wheels PYTHON=/opt/venv/bin/python \
              PIP_CONSTRAINT=/opt/humam/constraints.txt \
    && bash /opt/humam-build/provision-nest.sh --runtime-deps-only \
    && apt-get clean \
    && rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /root/.cache /tmp/humam

# The project: installed (not editable) into /opt/venv; the checkout stays in /opt/humam for
# doit (dodo.py, paper_figures/) and the container scripts.
COPY --from=source /opt/humam /opt/humam
RUN --mount=type=secret,id=pip-ca,required=false \
    if [ -s /run/secrets/pip-ca ]; then export PIP_CERT=/run/secrets/pip-ca; fi \
    && pip install -c /opt/humam/constraints.txt "/opt/humam[nest,mpi]" \
    && pip check \
    && pip freeze --all > /opt/venv/pip-freeze.txt \
    && rm -rf /root/.cache /tmp/humam \
    && python -m compileall -q /opt/humam/paper_figures /opt/humam/dodo.py /opt/humam/container \
    && unreadable="$(find /opt/venv /opt/humam ! -perm -o+r -print | head -n 5)" \
    && { [ -z "$unreadable" ] || { echo "not readable by other users: $unreadable" >&2; exit 1; }; } \
    && ln -s /opt/humam/container/entrypoint.sh /usr/local/bin/humam-container

# Identity of the image, last so that a new revision rebuilds only these layers. HUMAM_IMAGE and
# HUMAM_IMAGE_REVISION go into the provenance of every output (humam.provenance).
ARG VERSION=unknown
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="humam" \
      org.opencontainers.image.description="Human Multi-Area Model (Pronold et al. 2024): raw data to NEST ${NEST_VERSION} simulations (MPI: MPICH) and the paper's figures" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="GPL-2.0-or-later" \
      org.opencontainers.image.base.name="${BASE}" \
      humam.nest.version="${NEST_VERSION}" \
      humam.nest.models="${NEST_MODELS:-project}" \
      humam.mpi="mpich"
ENV HUMAM_IMAGE="humam:${VERSION}" \
    HUMAM_IMAGE_REVISION="${REVISION}"
RUN printf '%s\n' \
        "humam_version=${VERSION}" "revision=${REVISION}" "source=${SOURCE}" "base=${BASE}" \
        "nest_version=${NEST_VERSION}" "nest_models=${NEST_MODELS:-project}" \
        "mpi4py_version=${MPI4PY_VERSION}" "mpi=mpich $(mpiexec --version | sed -n 's/^ *Version: *//p' | head -n1)" \
        "built_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
        > /opt/humam/IMAGE-INFO \
    && ldconfig \
    && find /tmp -mindepth 1 -maxdepth 1 -exec rm -rf {} + \
    && [ -z "$(ls -A /tmp)" ]

# Conventional mount point for a writable work folder (`-v "$PWD":/work`); Apptainer keeps the
# caller's working directory instead.
WORKDIR /work
ENTRYPOINT ["/opt/humam/container/entrypoint.sh"]
