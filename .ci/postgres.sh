#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the consent-log tests and export its URL.
#
#   source .ci/postgres.sh            # exports GPC_TEST_POSTGRES_URL and GPC_TEST_POSTGRES_CTL
#   eval "$(.ci/postgres.sh)"         # the same, from a script that runs it
#   .ci/postgres.sh stop              # stop the server (the data directory is kept)
#
# Idempotent: a second run finds the server already running and prints the same exports.
# As root on Debian it installs the `postgresql` package with apt-get when initdb is
# missing, and runs the server as the `postgres` user; as another user it needs the
# binaries already installed. The cluster lives in $GPC_PG_DIR (default
# /tmp/gpc-middleware-postgres), listens on 127.0.0.1 only, on a free port, and
# authenticates TCP clients with a password (scram-sha-256).
#
# GPC_TEST_POSTGRES_CTL names a small script taking `start`, `stop` or `status`, and
# `freeze` / `thaw`, which stop and continue the postmaster and all its children with
# SIGSTOP / SIGCONT (a server that accepts connections but never answers): the tests use it
# to take the server away and bring it back while records are queued.

_gpc_pg_setup() (
    set -euo pipefail
    dir="${GPC_PG_DIR:-/tmp/gpc-middleware-postgres}"
    db_user=gpc
    db_name=gpc_test
    db_password=gpc-test-password
    log() { printf 'postgres.sh: %s\n' "$*" >&2; }

    find_bindir() {
        local initdb
        initdb="$(ls -1d /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -n 1 || true)"
        if [[ -z "$initdb" ]]; then
            initdb="$(command -v initdb || true)"
        fi
        [[ -n "$initdb" ]] && dirname "$initdb"
    }

    bindir="$(find_bindir || true)"
    if [[ -z "$bindir" ]]; then
        if [[ "$(id -u)" != 0 ]]; then
            log "initdb not found and not root: install the postgresql package first"
            exit 1
        fi
        log "installing postgresql with apt-get"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq >&2
        apt-get install -y -qq --no-install-recommends postgresql >&2
        bindir="$(find_bindir)"
    fi

    # Run the server as `postgres` when root (initdb and postgres refuse to run as root).
    if [[ "$(id -u)" == 0 ]]; then
        owner=postgres
        as_owner() { runuser -u postgres -- "$@"; }
    else
        owner="$(id -un)"
        as_owner() { "$@"; }
    fi

    if [[ "${1:-}" == stop ]]; then
        if [[ -x "$dir/ctl" ]] && "$dir/ctl" status; then
            "$dir/ctl" stop
            log "stopped"
        fi
        exit 0
    fi

    mkdir -p "$dir"
    chown "$owner" "$dir"
    chmod 700 "$dir"
    data="$dir/data"
    ctl="$dir/ctl"
    port_file="$dir/port"

    if [[ ! -s "$data/PG_VERSION" ]]; then
        log "creating a cluster in $data"
        rm -rf "$data"
        pwfile="$dir/pwfile"
        printf '%s\n' "$db_password" >"$pwfile"
        chown "$owner" "$pwfile"
        as_owner "$bindir/initdb" -D "$data" -U postgres --pwfile="$pwfile" \
            --auth-local=trust --auth-host=scram-sha-256 --encoding=UTF8 --no-locale >/dev/null
        rm -f "$pwfile"
        # A free port, chosen by the kernel.
        py="$(command -v python3 || command -v python)"
        port="$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
        printf '%s\n' "$port" >"$port_file"
        # Local (unix socket) access is for this script only: the socket lives in the
        # private directory. Clients connect over TCP with the password.
        cat >>"$data/postgresql.conf" <<EOF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$dir'
fsync = off
EOF
    fi
    port="$(cat "$port_file")"

    # The control script the tests use to stop and restart the server.
    cat >"$ctl" <<EOF
#!/usr/bin/env bash
set -euo pipefail
case "\${1:-}" in
    start) $( [[ "$owner" == postgres ]] && printf 'runuser -u postgres -- ' )"$bindir/pg_ctl" -D "$data" -l "$dir/server.log" -w -t 60 start >/dev/null ;;
    stop) $( [[ "$owner" == postgres ]] && printf 'runuser -u postgres -- ' )"$bindir/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null ;;
    status) $( [[ "$owner" == postgres ]] && printf 'runuser -u postgres -- ' )"$bindir/pg_ctl" -D "$data" status >/dev/null ;;
    freeze|thaw)
        # The postmaster (first line of postmaster.pid) and its children, by pid: frozen
        # first so that it forks nothing new; each child is found by its parent in /proc.
        signal=STOP; [[ "\$1" == thaw ]] && signal=CONT
        postmaster="\$(head -n 1 "$data/postmaster.pid")"
        pids=("\$postmaster")
        for stat in /proc/[0-9]*/stat; do
            line="\$(cat "\$stat" 2>/dev/null)" || continue
            fields=(\${line##*) })  # after "pid (command) ": state, parent pid, ...
            [[ "\${fields[1]:-}" == "\$postmaster" ]] && pids+=("\$(basename "\$(dirname "\$stat")")")
        done
        kill -s "\$signal" "\${pids[@]}" ;;
    *) echo "usage: \$0 start|stop|status|freeze|thaw" >&2; exit 2 ;;
esac
EOF
    chmod 755 "$ctl"

    if "$ctl" status; then
        log "already running on 127.0.0.1:$port"
    else
        log "starting on 127.0.0.1:$port"
        "$ctl" start
    fi

    psql_local() { as_owner "$bindir/psql" -h "$dir" -p "$port" -U postgres -v ON_ERROR_STOP=1 -qAt "$@"; }
    if [[ "$(psql_local -d postgres -c "SELECT 1 FROM pg_roles WHERE rolname = '$db_user'")" != 1 ]]; then
        psql_local -d postgres -c "CREATE ROLE $db_user LOGIN PASSWORD '$db_password'" >&2
    fi
    if [[ "$(psql_local -d postgres -c "SELECT 1 FROM pg_database WHERE datname = '$db_name'")" != 1 ]]; then
        psql_local -d postgres -c "CREATE DATABASE $db_name OWNER $db_user" >&2
    fi

    url="postgresql+psycopg://$db_user:$db_password@127.0.0.1:$port/$db_name"
    printf 'export GPC_TEST_POSTGRES_URL=%q\n' "$url"
    printf 'export GPC_TEST_POSTGRES_CTL=%q\n' "$ctl"
)

if [[ "${BASH_SOURCE[0]}" != "$0" ]]; then
    # Sourced: set the variables in the caller's shell without changing its options.
    if _gpc_pg_exports="$(_gpc_pg_setup "$@")"; then
        eval "$_gpc_pg_exports"
        printf '%s\n' "$_gpc_pg_exports"
        unset -f _gpc_pg_setup
        unset _gpc_pg_exports
    else
        unset -f _gpc_pg_setup
        unset _gpc_pg_exports
        return 1
    fi
else
    _gpc_pg_setup "$@"
fi
