#!/usr/bin/env bash
# The production shape on loopback: PostgreSQL, Redis, two Rasa replicas, two
# action servers, nginx in front; all from Debian packages, run by supervisord.
#
#   scripts/stack.sh up       # make stack: install what is missing, start, wait
#   scripts/stack.sh down     # make stack-down: stop everything
#   scripts/stack.sh status   # every process and its state
#   scripts/stack.sh ctl ...  # supervisorctl of this stack (stop rasa1, pid redis …)
#
# State lives in var/stack/ (private): PostgreSQL's data (user postgres), Redis
# (user redis), nginx's temp files (user www-data), logs. (When those users
# cannot reach the checkout, their folders go to /var/lib/faq-stack/<hash>/.) Run as root, the
# daemons run as their Debian users; the Rasa and action servers run as the
# caller, who owns the virtualenv and its interpreter (pyenv keeps it under a
# private home). Not root: every process runs as the caller, and the Debian
# packages must be installed already.
# Settings: STACK_PORT (8088, the public entry), STACK_RASA_PORTS ("5101 5102"),
# STACK_ACTIONS_PORTS ("5151 5152"), STACK_ACTIONS_PROXY_PORT (5150),
# STACK_PG_PORT (5433), STACK_REDIS_PORT (6380), STACK_NGINX_RATE (2r/s) and
# STACK_NGINX_BURST (30): nginx's flood limit per client address on the REST
# webhook, and every FAQ_*/TWILIO_*
# setting of README "Configuration", passed on to the servers.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
STACK=$ROOT/var/stack
umask 077

export STACK_PORT=${STACK_PORT:-8088}
export STACK_RASA_PORTS=${STACK_RASA_PORTS:-"5101 5102"}
export STACK_ACTIONS_PORTS=${STACK_ACTIONS_PORTS:-"5151 5152"}
export STACK_ACTIONS_PROXY_PORT=${STACK_ACTIONS_PROXY_PORT:-5150}
export STACK_PG_PORT=${STACK_PG_PORT:-5433}
export STACK_REDIS_PORT=${STACK_REDIS_PORT:-6380}
STARTUP_TIMEOUT=${STACK_STARTUP_TIMEOUT:-300}

say() { echo "stack: $*"; }
fail() { echo "stack: FOUT: $*" >&2; exit 1; }

ctl() {
  [ -f "$STACK/supervisord.conf" ] || fail "de stack is niet ingericht (make stack)"
  supervisorctl -c "$STACK/supervisord.conf" "$@"
}

running() {
  [ -f "$STACK/run/supervisord.pid" ] && kill -0 "$(cat "$STACK/run/supervisord.pid")" 2>/dev/null
}

pg_bin() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

install_packages() {
  local missing=()
  [ -n "$(pg_bin)" ] || missing+=(postgresql)
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || missing+=(nginx)
  command -v supervisord >/dev/null || missing+=(supervisor)
  [ ${#missing[@]} -eq 0 ] && return 0
  [ "$(id -u)" -eq 0 ] || fail "ontbrekende Debian-pakketten: ${missing[*]} (installeer ze als root)"
  say "Debian-pakketten installeren: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # Debian would start the packaged services; this stack runs its own.
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  for service in postgresql redis-server nginx supervisor; do
    if command -v service >/dev/null && service "$service" status >/dev/null 2>&1; then
      service "$service" stop >/dev/null 2>&1 || true
    fi
  done
}

choose_users() {
  APP_USER=$(id -un)
  export APP_USER
  if [ "$(id -u)" -eq 0 ]; then
    export PG_USER=postgres REDIS_USER=redis NGINX_USER=www-data
  else
    export PG_USER=$APP_USER REDIS_USER=$APP_USER NGINX_USER=
  fi
}

own() {  # own USER PATH...: private to USER
  local user=$1; shift
  if [ "$(id -u)" -eq 0 ]; then chown -R "$user": "$@"; fi
  chmod 0700 "$@"
}

prepare_dirs() {
  mkdir -p var "$STACK"
  # Others may pass through var/ and var/stack/ (the daemons' users need their
  # own folder) but not list them; everything below is private to its owner.
  chmod 0711 var "$STACK"
  # The daemons' folders live in var/stack/ when their users can reach it. A
  # checkout inside a private home (0700) cannot be reached: then they live in
  # /var/lib/faq-stack/<checkout hash>/, and var/stack/data points there.
  export STACK_DATA=$STACK
  if [ "$(id -u)" -eq 0 ] && ! runuser -u "$PG_USER" -- test -x "$STACK"; then
    STACK_DATA=/var/lib/faq-stack/$(echo "$ROOT" | md5sum | cut -c1-12)
    mkdir -p "$STACK_DATA"
    chmod 0711 /var/lib/faq-stack "$STACK_DATA"
    ln -sfn "$STACK_DATA" "$STACK/data"
    say "de daemons kunnen $STACK niet bereiken; hun mappen staan in $STACK_DATA"
  else
    rm -f "$STACK/data"
  fi
  mkdir -p "$STACK"/{run,log,conf,home,nginx} "$STACK_DATA"/{pg/sock,redis,nginx-tmp}
  own root "$STACK/run" "$STACK/log" "$STACK/nginx"
  own "$PG_USER" "$STACK_DATA/pg"
  own "$REDIS_USER" "$STACK_DATA/redis"
  own "$APP_USER" "$STACK/home" "$STACK/conf"
  own "${NGINX_USER:-$APP_USER}" "$STACK_DATA/nginx-tmp"
}

load_secrets() {
  export FAQ_ACTION_TOKEN=${FAQ_ACTION_TOKEN:-$(scripts/secret.sh action-token)}
  export FAQ_SESSION_SECRET=${FAQ_SESSION_SECRET:-$(scripts/secret.sh session-secret)}
  export FAQ_REST_TOKEN=${FAQ_REST_TOKEN:-$(scripts/secret.sh stack-rest-token)}
  export FAQ_STAFF_TOKEN=${FAQ_STAFF_TOKEN:-$(scripts/secret.sh stack-staff-token)}
  export FAQ_PG_PASSWORD=${FAQ_PG_PASSWORD:-$(scripts/secret.sh stack-pg-password)}
  export FAQ_REDIS_PASSWORD=${FAQ_REDIS_PASSWORD:-$(scripts/secret.sh stack-redis-password)}
}

as_user() {  # as_user USER CMD...
  local user=$1; shift
  if [ "$(id -u)" -eq 0 ] && [ "$user" != root ]; then runuser -u "$user" -- "$@"; else "$@"; fi
}

init_postgres() {
  if [ ! -s "$STACK_DATA/pg/data/PG_VERSION" ]; then
    say "PostgreSQL-cluster aanmaken in var/stack/pg/data"
    as_user "$PG_USER" "$PG_BIN/initdb" -D "$STACK_DATA/pg/data" -U postgres -E UTF8 \
      --locale=C.UTF-8 --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  fi
  install -m 0600 "$STACK_DATA/pg/postgresql.conf" "$STACK_DATA/pg/data/postgresql.conf"
  install -m 0600 "$STACK_DATA/pg/pg_hba.conf" "$STACK_DATA/pg/data/pg_hba.conf"
  own "$PG_USER" "$STACK_DATA/pg"
}

setup_database() {
  local pg=(as_user "$PG_USER" "$PG_BIN/psql" -h "$STACK_DATA/pg/sock" -p "$STACK_PG_PORT" -U postgres -qAt -v ON_ERROR_STOP=1)
  local ready=""
  for _ in $(seq 1 60); do
    as_user "$PG_USER" "$PG_BIN/pg_isready" -q -h "$STACK_DATA/pg/sock" -p "$STACK_PG_PORT" \
      && ready=1 && break
    sleep 0.5
  done
  if [ -z "$ready" ]; then
    tail -n 5 "$STACK/log/postgres.log" >&2 || true
    fail "PostgreSQL start niet; zie var/stack/log/postgres.log"
  fi
  # The password travels on stdin, never on a command line.
  "${pg[@]}" -d postgres <<SQL
SELECT 'CREATE ROLE faq LOGIN' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'faq')
\gexec
ALTER ROLE faq WITH LOGIN PASSWORD '$FAQ_PG_PASSWORD';
SELECT 'CREATE DATABASE faq OWNER faq' WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = 'faq')
\gexec
REVOKE ALL ON DATABASE faq FROM PUBLIC;
SQL
}

wait_http() {  # wait_http URL PROGRAM
  local deadline=$(( $(date +%s) + STARTUP_TIMEOUT ))
  until curl -fsS -o /dev/null --max-time 3 "$1" 2>/dev/null; do
    if ctl status "$2" | grep -q FATAL; then
      tail -n 15 "$STACK/log/$2.log" >&2
      fail "$2 start niet; zie var/stack/log/$2.log"
    fi
    [ "$(date +%s)" -lt "$deadline" ] || fail "$2 niet bereikbaar na ${STARTUP_TIMEOUT}s; zie var/stack/log/"
    sleep 1
  done
}

ports_free() {  # fails, naming the port, when another process listens on one
  local port
  for port in "$STACK_PORT" "$STACK_PG_PORT" "$STACK_REDIS_PORT" "$STACK_ACTIONS_PROXY_PORT" \
      $STACK_RASA_PORTS $STACK_ACTIONS_PORTS; do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      fail "poort $port is al in gebruik (een stack van een andere checkout? daar: make stack-down; of kies andere STACK_*_PORT-waarden)"
    fi
  done
}

up() {
  [ -f models/faq.tar.gz ] || [ -n "${RASA_MODEL:-}" ] || fail "geen getraind model: make train"
  install_packages
  PG_BIN=$(pg_bin); export PG_BIN
  choose_users
  prepare_dirs
  load_secrets
  .venv/bin/python scripts/stack_config.py "$STACK"
  own "$REDIS_USER" "$STACK_DATA/redis"
  own "$APP_USER" "$STACK/conf"
  init_postgres
  if running; then
    # Changed settings restart only the processes they concern.
    ctl reread >/dev/null
    ctl update >/dev/null
    # nginx and PostgreSQL re-read their configuration files on SIGHUP.
    ctl signal HUP nginx postgres >/dev/null 2>&1 || true
  else
    ports_free
    env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
      supervisord -c "$STACK/supervisord.conf"
  fi
  ctl start postgres redis >/dev/null
  setup_database
  ctl start actions1 actions2 rasa1 rasa2 nginx >/dev/null || true
  local port n=0
  for port in $STACK_ACTIONS_PORTS; do n=$((n + 1)); wait_http "http://127.0.0.1:$port/health" "actions$n"; done
  n=0
  for port in $STACK_RASA_PORTS; do n=$((n + 1)); wait_http "http://127.0.0.1:$port/webhooks/rest/" "rasa$n"; done
  wait_http "http://127.0.0.1:$STACK_PORT/webhooks/status/" nginx
  cat <<TXT
stack: draait. Eén ingang: http://127.0.0.1:$STACK_PORT (nginx)
  REST:      curl -s http://127.0.0.1:$STACK_PORT/webhooks/rest/webhook -H 'Content-Type: application/json' -d '{"message": "hoi"}'
  socket.io: http://127.0.0.1:$STACK_PORT/socket.io   status: http://127.0.0.1:$STACK_PORT/webhooks/status/
  Rasa-replica's: $STACK_RASA_PORTS, actieservers: $STACK_ACTIONS_PORTS, PostgreSQL: $STACK_PG_PORT, Redis: $STACK_REDIS_PORT
  logs: var/stack/log/   processen: scripts/stack.sh status   stoppen: make stack-down
TXT
}

down() {
  if running; then
    ctl shutdown >/dev/null || true
    for _ in $(seq 1 60); do running || break; sleep 0.5; done
    running && fail "supervisord stopt niet (pid $(cat "$STACK/run/supervisord.pid"))"
    say "gestopt"
  else
    say "draait niet"
  fi
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  status) ctl status ;;
  ctl) shift; ctl "$@" ;;
  *) echo "gebruik: scripts/stack.sh up|down|status|ctl ..." >&2; exit 2 ;;
esac
