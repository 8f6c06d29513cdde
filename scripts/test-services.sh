#!/usr/bin/env bash
# What the test suite runs for real besides Python packages, installed from Debian's packages when missing:
# Prometheus and promtool (observed-traffic tests), PostgreSQL's server binaries (the store on PostgreSQL,
# two replicas), openssl (the HTTPS Prometheus test's certificate). Idempotent: installs nothing that is there.
set -euo pipefail
as_root=()
[ "$(id -u)" = 0 ] || as_root=(sudo)
missing=()
command -v prometheus >/dev/null && command -v promtool >/dev/null || missing+=(prometheus)
command -v openssl >/dev/null || missing+=(openssl)
command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || missing+=(postgresql)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing for the tests: ${missing[*]}"
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# As root the test PostgreSQL runs as the `postgres` user (initdb refuses root); the Debian package creates
# it, this covers server binaries that came another way.
if [ "$(id -u)" = 0 ]; then id postgres >/dev/null 2>&1 || useradd --system --no-create-home postgres; fi
