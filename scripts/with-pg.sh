#!/usr/bin/env bash
# Runs a command with TEST_PG_URL pointing at a PostgreSQL that lets us create databases:
# the server on 127.0.0.1:5432 when one answers, otherwise a throwaway cluster created here
# (PostgreSQL 15, port 5439, trust auth) and removed afterwards. MOTCUA_FORCE_THROWAWAY_PG=1
# forces the throwaway cluster.
set -euo pipefail

PG_VERSION=15
CLUSTER=motcua_test
PORT=5439

ensure_pg_packages() {
  if ! command -v pg_createcluster >/dev/null 2>&1 || ! command -v pg_dump >/dev/null 2>&1; then
    echo "with-pg: installing PostgreSQL packages" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "postgresql-$PG_VERSION" postgresql-client >/dev/null
  fi
}

if [ -n "${TEST_PG_URL:-}" ]; then
  exec "$@"
fi

if [ -z "${MOTCUA_FORCE_THROWAWAY_PG:-}" ] && command -v psql >/dev/null 2>&1 && psql "postgres://postgres@127.0.0.1:5432/postgres" -tAc "SELECT 1" >/dev/null 2>&1; then
  ensure_pg_packages
  echo "with-pg: using the PostgreSQL server on 127.0.0.1:5432" >&2
  # Without TLS: the tests need none on loopback, and a process that exits while a thread is
  # inside the TLS library can crash in its exit handlers.
  export TEST_PG_URL="postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
  exec "$@"
fi

ensure_pg_packages
cleanup() {
  pg_ctlcluster "$PG_VERSION" "$CLUSTER" stop >/dev/null 2>&1 || true
  pg_dropcluster "$PG_VERSION" "$CLUSTER" >/dev/null 2>&1 || true
}
trap cleanup EXIT
if pg_lsclusters -h 2>/dev/null | awk '{print $2}' | grep -qx "$CLUSTER"; then
  cleanup
fi
echo "with-pg: starting a throwaway PostgreSQL $PG_VERSION cluster on port $PORT" >&2
pg_createcluster "$PG_VERSION" "$CLUSTER" -p "$PORT" -- --auth-local=trust --auth-host=trust >/dev/null
pg_ctlcluster "$PG_VERSION" "$CLUSTER" start
export TEST_PG_URL="postgres://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
for _ in $(seq 1 50); do
  psql "$TEST_PG_URL" -tAc "SELECT 1" >/dev/null 2>&1 && break
  sleep 0.2
done
"$@"
