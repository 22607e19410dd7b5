#!/usr/bin/env bash
# Runs a command with a real S3-compatible server: a single-node Garage on loopback, with one
# bucket and one key, exported to the tests as MOTCUA_TEST_S3_ENDPOINT, _BUCKET, _ACCESS_KEY_ID,
# _SECRET_ACCESS_KEY. Garage (a distributed S3 store written in Rust) is built once with
# `cargo install` and cached under $MOTCUA_TOOLS_DIR (default ~/.cache/motcua-tools); the first
# build takes a while. MOTCUA_SKIP_GARAGE=1 runs the command without it (the object-store tests
# then say they were skipped).
set -euo pipefail

GARAGE_VERSION=2.5.0
TOOLS="${MOTCUA_TOOLS_DIR:-$HOME/.cache/motcua-tools}"
GARAGE="$TOOLS/garage-$GARAGE_VERSION/bin/garage"

if [ -n "${MOTCUA_TEST_S3_ENDPOINT:-}" ] || [ -n "${MOTCUA_SKIP_GARAGE:-}" ]; then
  exec "$@"
fi

if [ ! -x "$GARAGE" ]; then
  echo "with-garage: building Garage $GARAGE_VERSION once (cached in $TOOLS)" >&2
  CARGO_TARGET_DIR="$TOOLS/garage-build" cargo install garage --version "$GARAGE_VERSION" --locked --root "$TOOLS/garage-$GARAGE_VERSION" >&2
  rm -rf "$TOOLS/garage-build"
fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }
DIR=$(mktemp -d /tmp/motcua-garage.XXXXXX)
RPC=$(free_port); S3=$(free_port); ADMIN=$(free_port)
cat > "$DIR/garage.toml" <<EOF
metadata_dir = "$DIR/meta"
data_dir = "$DIR/data"
db_engine = "lmdb"
replication_factor = 1
rpc_bind_addr = "127.0.0.1:$RPC"
rpc_public_addr = "127.0.0.1:$RPC"
rpc_secret = "$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"

[s3_api]
s3_region = "garage"
api_bind_addr = "127.0.0.1:$S3"
root_domain = ".s3.garage.localhost"

[admin]
api_bind_addr = "127.0.0.1:$ADMIN"
EOF
g() { "$GARAGE" -c "$DIR/garage.toml" "$@"; }
"$GARAGE" -c "$DIR/garage.toml" server > "$DIR/server.log" 2>&1 &
PID=$!
cleanup() { kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -rf "$DIR"; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  g status >/dev/null 2>&1 && break
  sleep 0.1
done
NODE=$(g node id -q 2>/dev/null | cut -d@ -f1)
g layout assign -z dc1 -c 1G "$NODE" >/dev/null
g layout apply --version 1 >/dev/null
g bucket create motcua-test >/dev/null
KEY_OUT=$(g key create motcua-test-key)
KEY_ID=$(printf '%s\n' "$KEY_OUT" | awk -F': *' '/Key ID/ {print $2; exit}' | tr -d ' ')
SECRET=$(printf '%s\n' "$KEY_OUT" | awk -F': *' '/Secret key/ {print $2; exit}' | tr -d ' ')
g bucket allow --read --write --owner motcua-test --key motcua-test-key >/dev/null
if [ -z "$KEY_ID" ] || [ -z "$SECRET" ]; then
  echo "with-garage: could not read the key from: $KEY_OUT" >&2
  exit 1
fi
echo "with-garage: Garage $GARAGE_VERSION on 127.0.0.1:$S3" >&2
export MOTCUA_TEST_S3_ENDPOINT="http://127.0.0.1:$S3"
export MOTCUA_TEST_S3_BUCKET=motcua-test
export MOTCUA_TEST_S3_ACCESS_KEY_ID="$KEY_ID"
export MOTCUA_TEST_S3_SECRET_ACCESS_KEY="$SECRET"
"$@"
