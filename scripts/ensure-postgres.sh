#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use is reachable: starts the local
# cluster when it is installed but stopped, installs it from Debian's
# packages when it is missing, and gives it room for the test suite's
# connections (max_connections 300: the conformance suite runs every case of
# four languages at once, each a host pool plus CLI calls, beside other
# tests). Does nothing when CONTINUUM_TEST_DATABASE_URL points somewhere
# else than the local default.
set -euo pipefail
url="${CONTINUUM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
case "$url" in
  *@127.0.0.1:5432/*|*@localhost:5432/*) ;;
  *) echo "ensure-postgres: using $url as given"; exit 0 ;;
esac
MIN_CONNECTIONS=300
# Raises max_connections to MIN_CONNECTIONS (a restart) when it is lower.
ensure_connections() {
  local have
  have=$(psql -h 127.0.0.1 -U postgres -Atc "SHOW max_connections" 2>/dev/null || echo 0)
  if [ "${have:-0}" -lt "$MIN_CONNECTIONS" ]; then
    echo "ensure-postgres: max_connections $have -> $MIN_CONNECTIONS (restarting the cluster)"
    psql -h 127.0.0.1 -U postgres -qc "ALTER SYSTEM SET max_connections = $MIN_CONNECTIONS"
    local v
    v=$(ls /etc/postgresql | sort -n | tail -n 1)
    pg_ctlcluster --skip-systemctl-redirect "$v" main restart
    for _ in $(seq 1 50); do
      pg_isready -q -h 127.0.0.1 -p 5432 && return 0
      sleep 0.2
    done
    echo "ensure-postgres: PostgreSQL did not come back on 127.0.0.1:5432" >&2
    return 1
  fi
}
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then ensure_connections; exit $?; fi
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ -z "$(ls /etc/postgresql 2>/dev/null)" ]; then
  echo "ensure-postgres: installing PostgreSQL from Debian's packages"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq postgresql >/dev/null
  ver=$(ls /etc/postgresql | sort -n | tail -n 1)
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # trust local TCP connections, as the test URL carries no password
  sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
fi
ver=$(ls /etc/postgresql | sort -n | tail -n 1)
echo "ensure-postgres: starting cluster $ver/main"
pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
for _ in $(seq 1 50); do
  if pg_isready -q -h 127.0.0.1 -p 5432; then ensure_connections; exit $?; fi
  sleep 0.2
done
echo "ensure-postgres: PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
