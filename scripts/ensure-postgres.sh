#!/usr/bin/env bash
# Makes sure the PostgreSQL the tests use is reachable: starts the local
# cluster when it is installed but stopped, installs it from Debian's
# packages when it is missing. Does nothing when CONTINUUM_TEST_DATABASE_URL
# points somewhere else than the local default.
set -euo pipefail
url="${CONTINUUM_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
case "$url" in
  *@127.0.0.1:5432/*|*@localhost:5432/*) ;;
  *) echo "ensure-postgres: using $url as given"; exit 0 ;;
esac
if pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then exit 0; fi
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
  pg_isready -q -h 127.0.0.1 -p 5432 && exit 0
  sleep 0.2
done
echo "ensure-postgres: PostgreSQL did not come up on 127.0.0.1:5432" >&2
exit 1
