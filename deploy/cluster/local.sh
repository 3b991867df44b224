#!/usr/bin/env bash
# A whole ticksync cluster on one machine, as README "Run a cluster" describes it:
# Redis, PostgreSQL, three `ticksync serve` nodes sharing both, Debian's nginx in front
# (the shipped deploy/nginx/ticksync.conf, TLS with a certificate made here by openssl),
# bots playing through nginx, and a check that their results reached Postgres.
#
# Everything runs from one scratch folder (CLUSTER_DIR) on loopback ports of its own; the
# system's PostgreSQL, Redis and nginx are not touched. When the script ends, fails or is
# interrupted (Ctrl-C, SIGTERM) it stops everything it started and removes the folder.
# tests/it/cluster_script.rs runs this very file.
#
# Needs (Debian; as root or as any user):
#   apt-get install redis-server postgresql nginx openssl curl
#   cargo build --release && cargo build --release --example bot
#
# Settings (environment variables, with their defaults):
#   TICKSYNC=target/release/ticksync        the server
#   BOT=target/release/examples/bot         the bot
#   CLUSTER_DIR=(new folder under /tmp)     scratch folder; must not exist yet
#   REDIS_PORT=6390 PG_PORT=5440 NODE_PORTS="7001 7002 7003" HTTPS_PORT=8443
#   BOTS=12                                 bots, each playing one game (even)
#   HOLD=0                                  1: after the check, keep the cluster up until
#                                           Ctrl-C (to try it: bots, /rooms, redis-cli)
#   KEEP=0                                  1: keep the scratch folder (logs) at the end
#   WAIT=60                                 seconds any one step may take to be ready
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
TICKSYNC=${TICKSYNC:-$root/target/release/ticksync}
BOT=${BOT:-$root/target/release/examples/bot}
REDIS_PORT=${REDIS_PORT:-6390}
PG_PORT=${PG_PORT:-5440}
NODE_PORTS=${NODE_PORTS:-7001 7002 7003}
HTTPS_PORT=${HTTPS_PORT:-8443}
BOTS=${BOTS:-12}
HOLD=${HOLD:-0}
KEEP=${KEEP:-0}
NODE_IDS=(a b c)
read -r -a node_ports <<<"$NODE_PORTS"
# How long any one step may take to become ready (a loaded machine is slow).
WAIT=${WAIT:-60}

say() { echo "cluster: $*"; }
die() {
  echo "cluster: FAILED: $*" >&2
  exit 1
}

# What it needs, named by the Debian package that brings it.
need() { command -v "$1" >/dev/null 2>&1 || die "$1 not found (apt-get install $2)"; }
need redis-server redis-server
need redis-cli redis-server
need openssl openssl
need curl curl
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
[ -x "$NGINX" ] || die "nginx not found (apt-get install nginx)"
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$PG_BIN" ] && [ -x "$PG_BIN/initdb" ] || die "PostgreSQL not found (apt-get install postgresql)"
[ -x "$TICKSYNC" ] || die "no server at $TICKSYNC (cargo build --release --bin ticksync, or set TICKSYNC)"
[ -x "$BOT" ] || die "no bot at $BOT (cargo build --release --example bot, or set BOT)"
[ "${#node_ports[@]}" -eq 3 ] || die "NODE_PORTS needs three ports, got '$NODE_PORTS'"
[ $((BOTS % 2)) -eq 0 ] && [ "$BOTS" -gt 0 ] || die "BOTS must be even and positive, got $BOTS"

# Every port must be free: something already answering there (a cluster left over from a
# run whose shell was killed, another service) would pass the readiness checks below and
# the script would run against it.
for port in "$REDIS_PORT" "$PG_PORT" "${node_ports[@]}" "$HTTPS_PORT"; do
  if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port on 127.0.0.1 is in use (stop what listens there, or choose other ports)"
  fi
done

# PostgreSQL refuses to run as root: as root its commands run as the `postgres` user the
# Debian package made (from /, since it may not enter the current folder).
if [ "$(id -u)" -eq 0 ]; then
  as_pg() { (cd / && runuser -u postgres -- "$@"); }
else
  as_pg() { "$@"; }
fi

if [ -n "${CLUSTER_DIR:-}" ]; then
  [ ! -e "$CLUSTER_DIR" ] || die "CLUSTER_DIR $CLUSTER_DIR already exists"
  mkdir -p "$CLUSTER_DIR"
else
  CLUSTER_DIR=$(mktemp -d /tmp/ticksync-cluster.XXXXXX)
fi
dir=$(cd "$CLUSTER_DIR" && pwd)

# --- Stopping what was started: on any exit, error or signal. --------------------------
pids=()      # processes to stop with SIGTERM, in reverse order of starting
bot_pids=()
pg_started=0
held=0     # 1 once HOLD=1 has shown the cluster working: an interrupt then is the way out
cleanup() {
  local status=$?
  trap - EXIT INT TERM ERR
  [ "$held" = 1 ] && status=0
  set +e
  for pid in "${bot_pids[@]}"; do kill "$pid" 2>/dev/null; done
  # Newest first: nginx, then the nodes (they drain on SIGTERM), then Redis.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do kill -TERM "${pids[i]}" 2>/dev/null; done
  for pid in "${bot_pids[@]}" "${pids[@]}"; do
    for _ in $(seq 1 $((WAIT * 10))); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "cluster: process $pid did not stop in ${WAIT}s: killing it" >&2
      kill -KILL "$pid" 2>/dev/null
    fi
    wait "$pid" 2>/dev/null
  done
  # (A Ctrl-C in a terminal reaches PostgreSQL too, which then stops by itself.)
  if [ "$pg_started" = 1 ] && as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" status >/dev/null 2>&1; then
    as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -m fast -w -t "$WAIT" stop >/dev/null 2>&1 \
      || echo "cluster: PostgreSQL did not stop (pg_ctl -D $dir/pg/data stop)" >&2
  fi
  if [ "$status" -ne 0 ]; then
    for log in "$dir"/*.log "$dir"/nginx/error.log "$dir"/pg/log; do
      [ -s "$log" ] && { echo "--- $log (last lines)" >&2; tail -n 15 "$log" >&2; }
    done
  fi
  if [ "$KEEP" = 1 ]; then
    say "logs kept in $dir"
  else
    rm -rf "$dir"
  fi
  say "stopped everything it started"
  exit "$status"
}
trap cleanup EXIT
trap 'echo "cluster: FAILED: line $LINENO: $BASH_COMMAND" >&2' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

# Polls `$@` until it succeeds, for at most WAIT seconds; `what` names it in the failure.
wait_for() {
  local what=$1
  shift
  for _ in $(seq 1 $((WAIT * 10))); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.1
  done
  die "$what not ready within ${WAIT}s"
}
# Exits if a process we started has died (its log is shown by cleanup).
alive() { kill -0 "$2" 2>/dev/null || die "$1 exited"; }

# --- PostgreSQL: a private instance, with a role and a database as .ci/run makes them. --
mkdir -p "$dir/pg"
if [ "$(id -u)" -eq 0 ]; then
  chmod 755 "$dir"
  chown postgres: "$dir/pg"
  as_pg test -x "$dir" || die "the postgres user cannot reach $dir (choose another CLUSTER_DIR)"
fi
say "PostgreSQL on 127.0.0.1:$PG_PORT ($PG_BIN)"
# C.UTF-8 is in every Debian; --no-sync: a scratch instance needs no fsync at creation.
as_pg "$PG_BIN/initdb" -D "$dir/pg/data" -U postgres --auth-local=trust \
  --auth-host=scram-sha-256 --encoding=UTF8 --locale=C.UTF-8 --no-sync \
  >"$dir/pg/initdb.log" 2>&1 || die "initdb: $(tail -n 5 "$dir/pg/initdb.log")"
pg_started=1
as_pg "$PG_BIN/pg_ctl" -D "$dir/pg/data" -l "$dir/pg/log" -w -t "$WAIT" \
  -o "-p $PG_PORT -c listen_addresses=127.0.0.1 -k $dir/pg" start >/dev/null \
  || die "PostgreSQL did not start"
psql_admin() { as_pg "$PG_BIN/psql" -h "$dir/pg" -p "$PG_PORT" -U postgres -qtAX "$@"; }
psql_admin -c "CREATE ROLE ticksync LOGIN PASSWORD 'ticksync'"
psql_admin -c "CREATE DATABASE ticksync OWNER ticksync"
DATABASE=postgres://ticksync:ticksync@127.0.0.1:$PG_PORT/ticksync

# --- Redis: no persistence (the cluster's state in it is all heartbeats and TTLs). -----
mkdir -p "$dir/redis"
say "Redis on 127.0.0.1:$REDIS_PORT"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" --appendonly no \
  --dir "$dir/redis" --logfile "$dir/redis.log" --daemonize no </dev/null &
pids+=($!)
redis_pid=$!
redis() { redis-cli -p "$REDIS_PORT" "$@"; }
pong() { [ "$(redis ping)" = PONG ]; }
wait_for "Redis" pong
alive redis-server "$redis_pid"

# --- A certificate for nginx, signed by a CA of our own that the bots trust. ------------
mkdir -p "$dir/tls"
chmod 700 "$dir/tls"
(
  cd "$dir/tls"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
    -subj "/CN=ticksync local CA" -keyout ca.key -out ca.pem
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=localhost" -keyout key.pem -out cert.csr
  printf '%s\n' "subjectAltName=IP:127.0.0.1,DNS:localhost" "basicConstraints=CA:FALSE" \
    "keyUsage=digitalSignature" "extendedKeyUsage=serverAuth" >cert.ext
  openssl x509 -req -in cert.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 \
    -extfile cert.ext -out cert.pem
) >"$dir/openssl.log" 2>&1 || die "openssl: $(tail -n 5 "$dir/openssl.log")"
CA=$dir/tls/ca.pem

# --- Three nodes: one Redis, one database, each reachable through nginx on its own path.
FRONT=127.0.0.1:$HTTPS_PORT
TICKSYNC_CLUSTER_SECRET=$(head -c 32 /dev/urandom | base64)
export TICKSYNC_CLUSTER_SECRET
for i in 0 1 2; do
  id=${NODE_IDS[i]}
  port=${node_ports[i]}
  say "node $id on 127.0.0.1:$port, public URL wss://$FRONT/node/$id/"
  # Every bot comes from this machine's one address: no per-address limits here.
  "$TICKSYNC" serve --addr "127.0.0.1:$port" --database "$DATABASE" \
    --cluster "redis://127.0.0.1:$REDIS_PORT" --public-url "wss://$FRONT/node/$id/" \
    --node-id "$id" --trust-proxy \
    --max-connections-per-ip 0 --new-connections-per-ip 0 \
    >"$dir/node-$id.log" 2>&1 </dev/null &
  pids+=($!)
  node_pid=$!
  # One at a time: the first to start creates the database's tables.
  wait_for "node $id" curl -sf "http://127.0.0.1:$port/healthz"
  alive "node $id" "$node_pid"
done
three_nodes() { [ "$(redis zcard ticksync:nodes)" = 3 ]; }
wait_for "three live nodes in Redis" three_nodes
say "live nodes: $(redis zrange ticksync:nodes 0 -1 | paste -sd ' ')"

# --- nginx: the shipped configuration, with this cluster's ports, nodes and certificate.
mkdir -p "$dir/nginx"
conf=$(<"$root/deploy/nginx/ticksync.conf")
# Replaces one exact piece of the shipped file; a piece that is gone fails loudly.
replace() {
  [[ $conf == *"$1"* ]] || die "deploy/nginx/ticksync.conf no longer has: $1"
  conf=${conf//"$1"/"$2"}
}
upstream="" locations=""
for i in 0 1 2; do
  upstream+="    server 127.0.0.1:${node_ports[i]};"$'\n'
  locations+="    location /node/${NODE_IDS[i]}/ {"$'\n'
  locations+="        proxy_pass http://127.0.0.1:${node_ports[i]}/;"$'\n'"    }"$'\n'
done
replace "    server 127.0.0.1:7777;"$'\n' "$upstream"
replace $'    location /node/a/ {\n        proxy_pass http://127.0.0.1:7777/;\n    }\n' "$locations"
replace $'    listen 443 ssl;\n    listen [::]:443 ssl;\n' "    listen $FRONT ssl;"$'\n'
replace /etc/ssl/ticksync/fullchain.pem "$dir/tls/cert.pem"
replace /etc/ssl/ticksync/privkey.pem "$dir/tls/key.pem"
printf '%s\n' "$conf" >"$dir/nginx/ticksync.conf"
# nginx's own frame: in the foreground, its files in the scratch folder (as root its
# workers would otherwise run as `nobody`, who cannot use the folder).
user=""
[ "$(id -u)" -eq 0 ] && user="user root;"
cat >"$dir/nginx/nginx.conf" <<CONF
$user
daemon off;
worker_processes 1;
pid $dir/nginx/nginx.pid;
error_log $dir/nginx/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $dir/nginx/body;
  proxy_temp_path $dir/nginx/proxy;
  fastcgi_temp_path $dir/nginx/fastcgi;
  uwsgi_temp_path $dir/nginx/uwsgi;
  scgi_temp_path $dir/nginx/scgi;
  include $dir/nginx/ticksync.conf;
}
CONF
nginx_args=(-p "$dir/nginx" -c "$dir/nginx/nginx.conf" -e "$dir/nginx/error.log")
"$NGINX" "${nginx_args[@]}" -t -q || die "nginx -t refused the configuration"
say "nginx on https://$FRONT/ (TLS), in front of the three nodes"
"$NGINX" "${nginx_args[@]}" </dev/null &
pids+=($!)
nginx_pid=$!
wait_for "nginx" curl -sf --cacert "$CA" "https://$FRONT/healthz"
alive nginx "$nginx_pid"

# --- Bots through nginx: each plays one game; redirects take them to their game's node.
say "$BOTS bots play through wss://$FRONT/"
for n in $(seq 1 "$BOTS"); do
  codec=bincode
  [ $((n % 2)) -eq 0 ] && codec=msgpack
  "$BOT" --url "wss://$FRONT/" --ca-file "$CA" --games 1 --codec "$codec" --timeout "$WAIT" \
    >"$dir/bot-$n.log" 2>&1 </dev/null &
  bot_pids+=($!)
done
failed=0
for n in $(seq 1 "$BOTS"); do
  if ! wait "${bot_pids[n - 1]}"; then
    failed=$((failed + 1))
    echo "--- bot $n failed:" >&2
    tail -n 5 "$dir/bot-$n.log" >&2
  fi
done
bot_pids=()
[ "$failed" -eq 0 ] || die "$failed of $BOTS bots failed"
say "all $BOTS bots finished their game"

# --- Where the games ran, and what reached the database. ------------------------------
for i in 0 1 2; do
  games=$(curl -sf "http://127.0.0.1:${node_ports[i]}/metrics" \
    | awk '/^ticksync_games_finished_total/ { n += $NF } END { print n + 0 }')
  say "node ${NODE_IDS[i]}: $games games finished"
done
expected=$((BOTS / 2))
# Results are written by each node's storage task just after the game: wait for them.
matches() { psql_admin -d ticksync -c "SELECT count(*) FROM matches WHERE game = 'tictactoe'"; }
recorded() { [ "$(matches)" -ge "$expected" ]; }
wait_for "$expected matches in PostgreSQL" recorded
say "PostgreSQL: $(matches) tic-tac-toe matches recorded"
# Read back over HTTPS through nginx, from whichever node it picks.
history=$(curl -sf --cacert "$CA" "https://$FRONT/matches?game=tictactoe&limit=100") \
  || die "GET /matches through nginx failed"
listed=$({ grep -o '"started_at_ms"' <<<"$history" || true; } | wc -l)
say "GET https://$FRONT/matches: $listed matches"
leaderboard=$(curl -sf --cacert "$CA" "https://$FRONT/leaderboard?game=tictactoe&limit=3") \
  || die "GET /leaderboard through nginx failed"
say "GET https://$FRONT/leaderboard: $leaderboard"
say "OK"

if [ "$HOLD" = 1 ]; then
  held=1
  say "the cluster is up: play with \`$BOT --url wss://$FRONT/ --ca-file $CA\`; Ctrl-C stops it"
  wait "$nginx_pid"
fi
