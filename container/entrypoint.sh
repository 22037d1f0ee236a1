#!/bin/sh
# Entry point of the humam image (Docker/podman ENTRYPOINT, Apptainer %runscript).
#
#   IMAGE                        humam --help
#   IMAGE humam ARGS...          the humam command line
#   IMAGE doit [COMMAND] ARGS... the pipeline of /opt/humam/dodo.py, e.g. `doit profile=tiny`,
#                                `doit list --status profile=tiny`. out= defaults to ./out and
#                                dep_file= to OUT/.doit.db; a relative out= is taken relative to
#                                the current directory (doit itself runs in /opt/humam, which is
#                                read-only).
#   IMAGE smoke-test             container/smoke-test.sh (NEST, have_mpi, a 2-rank run)
#   IMAGE COMMAND ARGS...        any other command (python, mpiexec, bash, ...)
set -eu

HUMAM_HOME=/opt/humam

if [ $# -eq 0 ]; then
    exec humam --help
fi

case "$1" in
    smoke-test)
        shift
        exec "$HUMAM_HOME/container/smoke-test.sh" "$@" ;;
    doit)
        shift ;;
    *)
        exec "$@" ;;
esac

# ---- doit: find out= and dep_file=, make them absolute, add -f for commands that load tasks
here=$(pwd)
command=""
case "${1:-}" in
    run|list|info|clean|forget|ignore|dumpdb|strace|reset-dep)
        command=$1; shift ;;
    help|tabcompletion)
        exec doit "$@" ;;
esac

out=""
dep_file=""
for arg in "$@"; do
    case "$arg" in
        out=*) out=${arg#out=} ;;
        dep_file=*) dep_file=${arg#dep_file=} ;;
    esac
done
absolute() {
    case "$1" in
        /*) printf '%s\n' "$1" ;;
        *) printf '%s/%s\n' "$here" "$1" ;;
    esac
}
out=$(absolute "${out:-out}")
dep_file=$(absolute "${dep_file:-$out/.doit.db}")
mkdir -p "$out" "$(dirname "$dep_file")"

# Rebuild the argument list: every out=/dep_file= replaced by the absolute one.
first=1
for arg in "$@"; do
    if [ "$first" = 1 ]; then set --; first=0; fi
    case "$arg" in
        out=*|dep_file=*) ;;
        *) set -- "$@" "$arg" ;;
    esac
done
if [ "$first" = 1 ]; then set --; fi

exec doit ${command:+"$command"} -f "$HUMAM_HOME/dodo.py" "$@" "out=$out" "dep_file=$dep_file"
