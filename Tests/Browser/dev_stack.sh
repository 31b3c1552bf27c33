#!/bin/sh
# A private MasterPlan stack for working on the review UI (no executor): a throwaway PostgreSQL
# cluster on a unix socket, migrations, one user, the API pool, the SSE relay and nginx serving
# static/ on a loopback port. Everything lives in $STACK (default /tmp/mpui-stack).
#
#   Tests/Browser/dev_stack.sh start   # prints the base URL, email and password
#   Tests/Browser/dev_stack.sh seed    # inserts a demo plan tree (Tests/Browser/fixtures/seed_plan.sql)
#   Tests/Browser/dev_stack.sh psql    # a psql shell on the stack's database
#   Tests/Browser/dev_stack.sh stop    # stops every process it started, by PID
#
# Environment: MASTERPLAN_BIN (default: .build/debug/masterplan, else `masterplan` on PATH),
# STACK, PORT (default 8089), UI_EMAIL, UI_PASSWORD.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STACK=${STACK:-/tmp/mpui-stack}
PORT=${PORT:-8089}
UI_EMAIL=${UI_EMAIL:-ann@example.org}
UI_PASSWORD=${UI_PASSWORD:-secret-password}
if [ -z "${MASTERPLAN_BIN:-}" ]; then
    if [ -x "$ROOT/.build/debug/masterplan" ]; then MASTERPLAN_BIN="$ROOT/.build/debug/masterplan"
    else MASTERPLAN_BIN=$(command -v masterplan || true); fi
fi
PGBIN=${MASTERPLAN_PG_BINDIR:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
AS_PG=""
[ "$(id -u)" = 0 ] && AS_PG="runuser -u postgres --"
DB_URL="host=$STACK/pg port=5432 user=postgres dbname=masterplan"

start() {
    [ -x "$MASTERPLAN_BIN" ] || { echo "masterplan binary not found: set MASTERPLAN_BIN" >&2; exit 1; }
    mkdir -p "$STACK/pg" "$STACK/nginx/tmp" "$STACK/run" "$STACK/log"
    chmod 755 "$STACK" "$STACK/run"
    if [ ! -f "$STACK/pg/data/PG_VERSION" ]; then
        [ -n "$AS_PG" ] && chown -R postgres "$STACK/pg"
        $AS_PG "$PGBIN/initdb" -D "$STACK/pg/data" --auth-local=peer --auth-host=reject -U postgres -E UTF8 --locale=C --no-sync >"$STACK/log/initdb.log"
    fi
    # As the product's private cluster: peer authentication, and only this user, as the superuser.
    printf 'local all all peer map=masterplan\n' >"$STACK/pg/data/pg_hba.conf"
    printf 'masterplan %s postgres\n' "$(id -un)" >"$STACK/pg/data/pg_ident.conf"
    [ -n "$AS_PG" ] && chown postgres "$STACK/pg/data/pg_hba.conf" "$STACK/pg/data/pg_ident.conf"
    $AS_PG "$PGBIN/pg_ctl" -D "$STACK/pg/data" -l "$STACK/pg/postgres.log" -w -t 60 \
        -o "-k $STACK/pg -c listen_addresses= -c unix_socket_permissions=0700 -c fsync=off" start >/dev/null
    "$PGBIN/psql" -h "$STACK/pg" -U postgres -qAtc "SELECT 1 FROM pg_database WHERE datname='masterplan'" postgres | grep -q 1 \
        || "$PGBIN/createdb" -h "$STACK/pg" -U postgres masterplan
    export MASTERPLAN_DATABASE_URL="$DB_URL"
    export MASTERPLAN_JWT_SECRET=${MASTERPLAN_JWT_SECRET:-browser-tests-secret-0123456789abcdef}
    export MASTERPLAN_MIGRATIONS_DIR="$ROOT/Migrations"
    "$MASTERPLAN_BIN" migrate >"$STACK/log/migrate.log" 2>&1
    printf '%s\n' "$UI_PASSWORD" | "$MASTERPLAN_BIN" user add "$UI_EMAIL" --role admin --password-stdin >/dev/null 2>&1 || true

    "$MASTERPLAN_BIN" serve api --socket "$STACK/run/api.sock" --workers 2 2>"$STACK/log/api.log" &
    echo $! >"$STACK/run/api.pid"
    "$MASTERPLAN_BIN" serve events --socket "$STACK/run/events.sock" 2>"$STACK/log/events.log" &
    echo $! >"$STACK/run/events.pid"
    for _ in $(seq 100); do [ -S "$STACK/run/api.sock" ] && [ -S "$STACK/run/events.sock" ] && break; sleep 0.1; done
    chmod 777 "$STACK/run/api.sock" "$STACK/run/events.sock"

    cat >"$STACK/nginx/nginx.conf" <<CONF
daemon off;
worker_processes 1;
user nobody nogroup;
pid $STACK/nginx/nginx.pid;
error_log $STACK/nginx/error.log warn;
events { worker_connections 512; }
http {
    include $ROOT/nginx/masterplan-log.conf;
    access_log $STACK/nginx/access.log masterplan;
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    client_body_temp_path $STACK/nginx/tmp/body;
    fastcgi_temp_path $STACK/nginx/tmp/fastcgi;
    proxy_temp_path $STACK/nginx/tmp/proxy;
    scgi_temp_path $STACK/nginx/tmp/scgi;
    uwsgi_temp_path $STACK/nginx/tmp/uwsgi;
    upstream masterplan_api { server unix:$STACK/run/api.sock; }
    upstream masterplan_events { server unix:$STACK/run/events.sock; }
    limit_req_zone \$binary_remote_addr zone=masterplan_login:1m rate=600r/m;
    server {
        listen 127.0.0.1:$PORT;
        root $ROOT/static;
        include $ROOT/nginx/masterplan-locations.conf;
    }
}
CONF
    nginx -p "$STACK/nginx/" -c "$STACK/nginx/nginx.conf" -e "$STACK/nginx/error.log" 2>"$STACK/log/nginx.log" &
    echo $! >"$STACK/run/nginx.pid"
    for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/health/live" >/dev/null 2>&1 && break; sleep 0.1; done
    echo "base_url=http://127.0.0.1:$PORT email=$UI_EMAIL password=$UI_PASSWORD database=\"$DB_URL\""
}

stop() {
    for name in nginx events api; do
        if [ -f "$STACK/run/$name.pid" ]; then
            pid=$(cat "$STACK/run/$name.pid")
            kill -TERM "$pid" 2>/dev/null || true
            for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
            rm -f "$STACK/run/$name.pid"
        fi
    done
    if [ -f "$STACK/pg/data/postmaster.pid" ]; then
        $AS_PG "$PGBIN/pg_ctl" -D "$STACK/pg/data" -m fast -w stop >/dev/null
    fi
}

# A small git workspace for plan A, so GET …/workspace.tar.gz has something to archive.
seed() {
    ws="$STACK/workspaces/fastapi-jwt-auth"
    if [ ! -d "$ws/.git" ]; then
        mkdir -p "$ws/app/routes" "$ws/tests"
        printf '[project]\nname = "fastapi-jwt-auth"\nversion = "0.1.0"\nrequires-python = ">=3.11"\n' >"$ws/pyproject.toml"
        printf 'fastapi==0.110.0\nuvicorn==0.29.0\nsqlalchemy==2.0.29\npyjwt==2.8.0\npasslib[bcrypt]==1.7.4\n' >"$ws/requirements.txt"
        printf 'from pydantic_settings import BaseSettings\n\n\nclass Settings(BaseSettings):\n    secret_key: str = "dev"\n    access_token_minutes: int = 30\n\n\nsettings = Settings()\n' >"$ws/app/config.py"
        : >"$ws/app/__init__.py"
        printf 'from app.security import hash_password, verify_password\n\n\ndef test_password_hash_not_plain():\n    assert hash_password("s") != "s"\n' >"$ws/tests/test_security.py"
        head -c 300 /dev/urandom >"$ws/app/logo.bin"
        git -C "$ws" init -q
        git -C "$ws" add -A
        git -C "$ws" -c user.name=MasterPlan -c user.email=masterplan@localhost commit -qm "wave 3"
    fi
    "$PGBIN/psql" -h "$STACK/pg" -U postgres -X -q -v ON_ERROR_STOP=1 -v email="$UI_EMAIL" -v workspace="$ws" \
        -f "$HERE/fixtures/seed_plan.sql" masterplan
}

case "${1:-}" in
    start) start ;;
    stop) stop ;;
    seed) seed ;;
    psql) shift; exec "$PGBIN/psql" -h "$STACK/pg" -U postgres masterplan "$@" ;;
    *) echo "usage: $0 start|seed|psql|stop" >&2; exit 2 ;;
esac
