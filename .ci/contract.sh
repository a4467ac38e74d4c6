#!/usr/bin/env bash
# Contract tests against a real release server on a temporary SQLite database:
# schemathesis over openapi.yaml (every operation, with a bearer token) and
# graphql-core over schema.graphql plus an introspection round-trip, and
# feedparser over the RSS and Atom feeds of the demo content. The tools come
# from PyPI into a throw-away virtualenv. Bounded: a few minutes.
set -euo pipefail
cd "$(dirname "$0")/.."

WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== contract: tools"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5" "graphql-core==3.3.2" "feedparser==6.0.11"

echo "== contract: release server"
cargo build --release --locked --quiet
PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
BASE="http://127.0.0.1:$PORT"
export DATABASE_URL="sqlite://$WORK/contract.db?mode=rwc"
BROADSHEET_BIND="127.0.0.1:$PORT" \
BROADSHEET_JWT_SECRET="contract-secret-contract-secret-0123456789" \
BROADSHEET_ADMIN_EMAIL="admin@example.org" BROADSHEET_ADMIN_PASSWORD="contract-admin-password" \
BROADSHEET_LOGIN_FAILURES_PER_MINUTE=0 BROADSHEET_COMMENT_RATE_PER_MINUTE=0 BROADSHEET_LOG_LEVEL=warn \
  ./target/release/broadsheet serve > "$WORK/server.log" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 50); do curl -fsS "$BASE/readyz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -fsS "$BASE/readyz" >/dev/null || { cat "$WORK/server.log"; echo "the server did not become ready"; exit 1; }
./target/release/broadsheet seed --demo >/dev/null
TOKEN="$(curl -fsS "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d '{"email":"admin@example.org","password":"contract-admin-password"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')"

# Before schemathesis, whose staff calls edit and delete the demo content.
echo "== contract: feedparser (/feeds/rss.xml, /feeds/atom.xml)"
"$WORK/venv/bin/python" .ci/feed_check.py "$BASE"

echo "== contract: schemathesis (openapi.yaml)"
(cd "$WORK" && "$WORK/venv/bin/schemathesis" run "$OLDPWD/openapi.yaml" --url "$BASE" \
  -H "Authorization: Bearer $TOKEN" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --max-examples 25 --workers 2 --seed 1 --no-color)

echo "== contract: graphql-core (schema.graphql) and introspection round-trip"
"$WORK/venv/bin/python" .ci/graphql_check.py schema.graphql "$BASE/graphql"
