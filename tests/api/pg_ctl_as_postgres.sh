#!/bin/sh
# pg_ctl for the tests: the Debian binary ($PLACEMENT_TEST_PG_CTL). As root, it runs it as
# the "postgres" user (PostgreSQL refuses to run as root) and keeps the data directory out of
# /tmp/pytest-of-root: pytest resets that directory to mode 0700 whenever a pytest session
# starts, which would lock the postgres user out of a running server's files. The data
# directory pytest-postgresql asks for (-D) is mapped to one under /tmp/placement-test-pg.
set -e
REAL="${PLACEMENT_TEST_PG_CTL:?set PLACEMENT_TEST_PG_CTL to the real pg_ctl}"
if [ "$(id -u)" != "0" ]; then
    exec "$REAL" "$@"
fi
ROOT=/tmp/placement-test-pg
mkdir -p "$ROOT"
chmod 755 "$ROOT"
command="$1"
prev=""
logfile=""
mapped=""
original=""
for arg in "$@"; do
    case "$prev" in
        -D | --pgdata) original="$arg" ;;
        -l | --log) logfile="$arg" ;;
    esac
    case "$arg" in
        --pgdata=*) original="${arg#--pgdata=}" ;;
    esac
    prev="$arg"
done
if [ -n "$original" ]; then
    mapped="$ROOT/$(printf '%s' "$original" | md5sum | cut -c1-16)"
    # pytest-postgresql checks that the directory it asked for exists
    mkdir -p "$original"
fi
# rebuild the arguments with the mapped data directory
first=1
prev=""
for arg in "$@"; do
    if [ "$first" = 1 ]; then
        set --
        first=0
    fi
    case "$prev" in
        -D | --pgdata) arg="$mapped" ;;
    esac
    case "$arg" in
        --pgdata=*) arg="--pgdata=$mapped" ;;
    esac
    set -- "$@" "$arg"
    prev="$arg"
done
if [ "$command" = "initdb" ]; then
    # remove the data directories of servers that are gone (killed sessions)
    for old in "$ROOT"/*; do
        [ -d "$old" ] || continue
        pid=$(head -n 1 "$old/postmaster.pid" 2>/dev/null || true)
        if [ -z "$pid" ] || ! kill -0 "$pid" 2>/dev/null; then
            rm -rf "$old"
        fi
    done
fi
if [ -n "$mapped" ]; then
    mkdir -p "$mapped"
    chown postgres "$mapped"
    chmod 700 "$mapped"
fi
if [ -n "$logfile" ]; then
    touch "$logfile"
    chown postgres "$logfile"
    dir=$(dirname "$logfile")
    while [ "$dir" != "/" ]; do
        chmod o+x "$dir"
        dir=$(dirname "$dir")
    done
fi
status=0
runuser -u postgres -- "$REAL" "$@" || status=$?
if [ "$command" = "stop" ] && [ "$status" = 0 ] && [ -n "$mapped" ]; then
    rm -rf "$mapped"
fi
exit "$status"
