#!/usr/bin/env bash
# Broadsheet's benchmark: builds release, seeds a synthetic archive through the
# CLI, serves it, drives each scenario with wrk, and prints one table (req/s,
# p50, p99, errors, server RSS, and the ratio to a fixed-bytes reference
# handler run in the same invocation with a body of that scenario's size and
# the same wrk script). Results go to bench/RESULTS.md.
#
#   bench/run.sh [--articles N] [--comments M] [--duration SECONDS]
#                [--connections C] [--postgres URL] [--out FILE]
#
# SQLite by default; --postgres postgres://user@host:5432/postgres benchmarks a
# fresh database created (and dropped) on that server.
set -euo pipefail
cd "$(dirname "$0")/.."

ARTICLES=10000
COMMENTS=10
DURATION=10
CONNECTIONS=32
PG_URL=""
OUT="bench/RESULTS.md"
while [ $# -gt 0 ]; do
  case "$1" in
    --articles) ARTICLES="$2"; shift 2 ;;
    --comments) COMMENTS="$2"; shift 2 ;;
    --duration) DURATION="$2"; shift 2 ;;
    --connections) CONNECTIONS="$2"; shift 2 ;;
    --postgres) PG_URL="$2"; shift 2 ;;
    --out) OUT="$2"; shift 2 ;;
    *) echo "unknown argument: $1" >&2; exit 2 ;;
  esac
done

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk (Debian package)"
  if [ "$(id -u)" = 0 ]; then apt-get install -y -qq wrk >/dev/null; else sudo apt-get install -y -qq wrk >/dev/null; fi
fi

if [ -z "${BENCH_SKIP_BUILD:-}" ]; then
  echo "== building release"
  cargo build --release --locked --quiet --bin broadsheet --example reference
fi
BIN=./target/release/broadsheet

WORK="$(mktemp -d)"
SERVER_PID=""; REF_PID=""; PG_DB=""
cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null || true
  [ -n "$REF_PID" ] && kill "$REF_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  if [ -n "$PG_DB" ]; then psql "$PG_URL" -qc "DROP DATABASE IF EXISTS $PG_DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

if [ -n "$PG_URL" ]; then
  PG_DB="broadsheet_bench_$$"
  psql "$PG_URL" -qc "CREATE DATABASE $PG_DB" >/dev/null
  export DATABASE_URL="${PG_URL%/*}/$PG_DB"
  BACKEND="PostgreSQL"
else
  export DATABASE_URL="sqlite://$WORK/bench.db?mode=rwc"
  BACKEND="SQLite"
fi
export BROADSHEET_JWT_SECRET="bench-secret-bench-secret-bench-secret-0123"
export BROADSHEET_ADMIN_EMAIL="admin@bench.example" BROADSHEET_ADMIN_PASSWORD="bench-admin-password"
export BROADSHEET_COMMENT_RATE_PER_MINUTE=0 BROADSHEET_LOGIN_FAILURES_PER_MINUTE=0
export BROADSHEET_LOG_LEVEL=warn  # pool size: the server's default unless BROADSHEET_DB_MAX_CONNECTIONS is set

echo "== seeding $ARTICLES articles x $COMMENTS comments ($BACKEND)"
SEED_START=$(date +%s.%N)
"$BIN" seed --synthetic --articles "$ARTICLES" --comments-per-article "$COMMENTS" --slugs-file "$WORK/slugs.txt"
SEED_SECS=$(echo "$(date +%s.%N) - $SEED_START" | bc)

# Read the database once so that the OS holds it in its file cache, as it
# would for a server that has been serving for a while: some machines drop a
# freshly written file from the cache, and a 100,000-article archive (4 GB)
# then measures the disk, not Broadsheet.
if [ -z "$PG_URL" ]; then cat "$WORK"/bench.db* > /dev/null; fi

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
PORT=$(free_port)
BASE="http://127.0.0.1:$PORT"
start_server() {
  BROADSHEET_BIND="127.0.0.1:$PORT" "$BIN" serve > "$WORK/server.log" 2>&1 &
  SERVER_PID=$!
}
# Start-up to ready on the existing database, best of 3.
STARTUP_MS=999999
for _ in 1 2 3; do
  T0=$(date +%s%N)
  start_server
  until curl -fs "$BASE/readyz" >/dev/null 2>&1; do sleep 0.002; done
  T1=$(date +%s%N)
  MS=$(( (T1 - T0) / 1000000 ))
  [ "$MS" -lt "$STARTUP_MS" ] && STARTUP_MS=$MS
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
done
start_server
until curl -fs "$BASE/readyz" >/dev/null 2>&1; do sleep 0.01; done

SLUG=$(sed -n "$(( (ARTICLES + 1) / 2 ))p" "$WORK/slugs.txt")
ARTICLE_BYTES=$(curl -fs "$BASE/api/v1/articles/$SLUG" | wc -c)

# ---- wrk scripts: each prints "RESULT requests seconds p50_us p99_us errors"
cat > "$WORK/done.lua" <<'LUA'
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %.3f %d %d %d\n", summary.requests, summary.duration / 1e6,
    latency:percentile(50), latency:percentile(99), e.connect + e.read + e.write + e.timeout + e.status))
end
LUA
cat > "$WORK/get.lua" <<'LUA'
dofile(os.getenv("BENCH_DIR") .. "/done.lua")
LUA
cat > "$WORK/mix.lua" <<'LUA'
dofile(os.getenv("BENCH_DIR") .. "/done.lua")
local slugs = {}
for line in io.lines(os.getenv("BENCH_DIR") .. "/slugs.txt") do slugs[#slugs + 1] = line end
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v1/articles/" .. slugs[math.random(#slugs)])
end
LUA
cat > "$WORK/search.lua" <<'LUA'
dofile(os.getenv("BENCH_DIR") .. "/done.lua")
-- Queries made of words from random titles: one word, two words, a prefix.
-- The titles are those of the first 1,000 articles, the same at every archive
-- size (the seeder is deterministic), so that runs at different sizes ask the
-- same queries and only the archive grows.
local common = {}
for w in ("cooperation summit policy energy railway harvest market province delegation treaty investment festival school bridge museum archive history climate village science industry network language culture minister farmers workers students council agreement development infrastructure exchange research dialogue region ceremony economy transport capital friendship sovereignty planning multipolar partnership century across between before during"):gmatch("%a+") do common[w] = true end
local words = {}
local titles = 0
for line in io.lines(os.getenv("BENCH_DIR") .. "/slugs.txt") do
  titles = titles + 1
  if titles > 1000 then break end
  for w in line:gmatch("[a-z]+") do
    if #w >= 6 and not common[w] then words[#words + 1] = w end
  end
end
math.randomseed(os.time())
request = function()
  local w = words[math.random(#words)]
  local kind = math.random(3)
  local q = w
  if kind == 2 then q = w .. "%20" .. words[math.random(#words)] end
  if kind == 3 then q = w:sub(1, 4) .. "%2A" end
  return wrk.format("GET", "/api/v1/search?q=" .. q)
end
LUA
cat > "$WORK/post.lua" <<'LUA'
dofile(os.getenv("BENCH_DIR") .. "/done.lua")
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = os.getenv("BENCH_BODY")
LUA
cat > "$WORK/comments.lua" <<'LUA'
dofile(os.getenv("BENCH_DIR") .. "/done.lua")
local slugs = {}
for line in io.lines(os.getenv("BENCH_DIR") .. "/slugs.txt") do slugs[#slugs + 1] = line end
local counter = 0
local id = 0
local threads = 0
setup = function(thread) threads = threads + 1; thread:set("id", threads) end
request = function()
  counter = counter + 1
  local body = string.format('{"author_name":"Bench reader","author_email":"bench%d@example.net","body":"Benchmark comment %d-%d-%d"}', id, id, counter, math.random(1000000000))
  return wrk.format("POST", "/api/v1/articles/" .. slugs[math.random(#slugs)] .. "/comments", {["Content-Type"] = "application/json"}, body)
end
init = function(args) id = tonumber(wrk.thread:get("id")) or 0; math.randomseed(os.time() + id) end
LUA
export BENCH_DIR="$WORK"

rss_mb() { awk '/VmRSS/ {printf "%.1f", $2 / 1024}' "/proc/$SERVER_PID/status"; }
run_wrk() { # url script -> "req/s p50_ms p99_ms errors"
  local url="$1" script="$2" line
  line=$(wrk -t2 -c"$CONNECTIONS" -d"${DURATION}s" -s "$WORK/$script" "$url" | grep '^RESULT')
  echo "$line" | awk '{printf "%.0f %.2f %.2f %d %d\n", $2 / $3, $4 / 1000, $5 / 1000, $6, $2}'
}

# The reference handler serves fixed bytes of the size of each scenario's
# answer, driven by the same wrk script, so every ratio compares equal work.
reference() { # bytes script -> "req/s ..." (BENCH_BODY passes through)
  local bytes="$1" script="$2" port line
  port=$(free_port)
  ./target/release/examples/reference "$bytes" "127.0.0.1:$port" > /dev/null &
  REF_PID=$!
  until curl -fs "http://127.0.0.1:$port/" >/dev/null 2>&1; do sleep 0.01; done
  line=$(run_wrk "http://127.0.0.1:$port" "$script")
  kill "$REF_PID"; wait "$REF_PID" 2>/dev/null || true; REF_PID=""
  echo "$line"
}
size_of() { curl -fs "$@" | wc -c; }

FRONT='{"query":"{ articles(first: 10) { edges { node { title slug excerpt publishedAt commentCount authors { name slug } source { name } tags { name slug } } } } }"}'
PAGE="{\"query\":\"{ article(slug: \\\"$SLUG\\\") { title bodyHtml authors { name } tags { name } source { name } comments(first: 50, topLevel: true) { totalCount edges { node { authorName bodyHtml createdAt replies { authorName bodyHtml } } } } } }\"}"
SEARCH_WORD=$(echo "$SLUG" | tr '-' '\n' | awk 'length >= 6' | head -1)

ROWS=""
row() { # name bytes script url -> one line of the table (BENCH_BODY passes through)
  local name="$1" bytes="$2" script="$3" url="$4" rps p50 p99 err rss ref ratio
  LAST_LINE=$(run_wrk "$url" "$script")
  read -r rps p50 p99 err _ <<<"$LAST_LINE"
  rss=$(rss_mb)
  read -r ref _ <<<"$(reference "$bytes" "$script")"
  ratio=$(echo "scale=0; $rps * 100 / $ref" | bc)
  ROWS+="| $name | $bytes | $rps | $p50 | $p99 | $err | $rss | $ref | ${ratio}% |"$'\n'
  printf '%-34s %7s B %9s req/s  p50 %7s ms  p99 %7s ms  errors %5s  RSS %6s MB  reference %7s req/s  %4s%%\n' \
    "$name" "$bytes" "$rps" "$p50" "$p99" "$err" "$rss" "$ref" "$ratio"
}
echo "== scenarios: $DURATION s each, $CONNECTIONS connections, 2 wrk threads; then the reference at the same size"
row "REST article by slug" "$ARTICLE_BYTES" get.lua "$BASE/api/v1/articles/$SLUG"
row "REST list page 1" "$(size_of "$BASE/api/v1/articles")" get.lua "$BASE/api/v1/articles"
row "REST comments of an article" "$(size_of "$BASE/api/v1/articles/$SLUG/comments?per_page=50")" get.lua \
  "$BASE/api/v1/articles/$SLUG/comments?per_page=50"
BENCH_BODY="$FRONT" row "GraphQL front page" \
  "$(size_of "$BASE/graphql" -H 'content-type: application/json' -d "$FRONT")" post.lua "$BASE/graphql"
BENCH_BODY="$PAGE" row "GraphQL article + 50 comments" \
  "$(size_of "$BASE/graphql" -H 'content-type: application/json' -d "$PAGE")" post.lua "$BASE/graphql"
row "cold-read mix (random slugs)" "$ARTICLE_BYTES" mix.lua "$BASE"
row "search (words from random titles)" "$(size_of "$BASE/api/v1/search?q=$SEARCH_WORD")" search.lua "$BASE"
TOKEN=$(curl -fs "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$BROADSHEET_ADMIN_EMAIL\",\"password\":\"$BROADSHEET_ADMIN_PASSWORD\"}" | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
count_comments() { curl -fs "$BASE/api/v1/comments/counts" -H "authorization: Bearer $TOKEN" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(v for v in d.values() if isinstance(v, int)))'; }
COMMENT_BYTES=$(size_of "$BASE/api/v1/articles/$SLUG/comments" -H 'content-type: application/json' \
  -d '{"author_name":"Bench reader","author_email":"size@example.net","body":"Benchmark comment for the size of an answer"}')
BEFORE=$(count_comments)
row "comment submissions (writes)" "$COMMENT_BYTES" comments.lua "$BASE"
AFTER=$(count_comments)
read -r _ _ _ WRITE_ERR WRITE_TOTAL <<<"$LAST_LINE"
ACKED=$((WRITE_TOTAL - WRITE_ERR))
STORED=$((AFTER - BEFORE))
echo "comment submissions: $ACKED acknowledged, $STORED stored"

# Query plans: a second, uncached server logs every statement while each
# read is asked once; SQLite explains every distinct SELECT.
PLANS=""
if [ -z "$PG_URL" ]; then
  kill "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true
  BROADSHEET_RESPONSE_CACHE_MB=0 BROADSHEET_LOG_LEVEL="warn,broadsheet::sql=trace" NO_COLOR=1 \
    BROADSHEET_BIND="127.0.0.1:$PORT" "$BIN" serve > "$WORK/plans.log" 2>&1 &
  SERVER_PID=$!
  until curl -fs "$BASE/readyz" >/dev/null 2>&1; do sleep 0.01; done
  AUTHOR=$(curl -fs "$BASE/api/v1/authors?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')
  TAG=$(curl -fs "$BASE/api/v1/tags?per_page=1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"][0]["slug"])')
  for p in "/api/v1/articles" "/api/v1/articles?page=50" "/api/v1/articles?sort=title" "/api/v1/articles?sort=-updated_at" \
           "/api/v1/articles/$SLUG" "/api/v1/articles/$SLUG/comments" "/api/v1/authors" "/api/v1/authors/$AUTHOR/articles" \
           "/api/v1/tags/$TAG/articles" "/api/v1/sources" "/api/v1/tags" "/api/v1/search?q=river" "/api/v1/articles?q=river" \
           "/feeds/rss.xml"; do
    curl -fs "$BASE$p" > /dev/null || true
  done
  curl -fs "$BASE/graphql" -H 'content-type: application/json' -d "$FRONT" > /dev/null
  curl -fs "$BASE/graphql" -H 'content-type: application/json' -d "$PAGE" > /dev/null
  curl -fs "$BASE/api/v1/comments?status=pending" -H "authorization: Bearer $TOKEN" > /dev/null
  PLANS=$(python3 bench/explain.py "$WORK/bench.db" "$WORK/plans.log")
fi

CPU=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')
{
  echo "# Benchmark results"
  echo
  echo "- Date: $(date -u '+%Y-%m-%d %H:%M UTC')"
  echo "- Machine: $(nproc) cores ($CPU), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
  echo "- Database: $BACKEND; $ARTICLES articles, $COMMENTS comments each (seeded in ${SEED_SECS%.*} s)"
  echo "- Load: wrk, 2 threads, $CONNECTIONS connections, $DURATION s per scenario, on the same machine"
  echo "- Start-up to ready on the existing database: $STARTUP_MS ms (best of 3)"
  echo "- Comment submissions: $ACKED acknowledged, $STORED stored"
  echo
  echo "| scenario | body bytes | req/s | p50 ms | p99 ms | errors | server RSS MB | reference req/s (same bytes) | of reference |"
  echo "|---|---|---|---|---|---|---|---|---|"
  printf '%s' "$ROWS"
  if [ -n "$PLANS" ]; then
    echo
    echo "## Query plans (SQLite, every distinct SELECT of the reads above)"
    echo
    echo "$PLANS"
  fi
} > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
echo "wrote $OUT"
