#!/bin/sh
# pg_ctl for the tests: the Debian binary ($PLACEMENT_TEST_PG_CTL), run as the "postgres"
# user when the tests run as root (PostgreSQL refuses to run as root). It gives that user
# the data directory and the log file, and lets it traverse the pytest temporary directories.
set -e
REAL="${PLACEMENT_TEST_PG_CTL:?set PLACEMENT_TEST_PG_CTL to the real pg_ctl}"
if [ "$(id -u)" != "0" ]; then
    exec "$REAL" "$@"
fi
prev=""
datadir=""
logfile=""
for arg in "$@"; do
    case "$prev" in
        -D | --pgdata) datadir="$arg" ;;
        -l | --log) logfile="$arg" ;;
    esac
    case "$arg" in
        --pgdata=*) datadir="${arg#--pgdata=}" ;;
    esac
    prev="$arg"
done
if [ -n "$datadir" ]; then
    mkdir -p "$datadir"
    chown -R postgres "$datadir"
    dir=$(dirname "$datadir")
    while [ "$dir" != "/" ]; do
        chmod o+x "$dir"
        dir=$(dirname "$dir")
    done
fi
if [ -n "$logfile" ]; then
    touch "$logfile"
    chown postgres "$logfile"
fi
exec runuser -u postgres -- "$REAL" "$@"
