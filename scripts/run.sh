#!/usr/bin/env bash
# Starts the action server, then the Rasa server (REST + socket.io) or a chat.
#
#   scripts/run.sh          # serve on http://$RASA_HOST:$RASA_PORT (default 127.0.0.1:5005)
#   scripts/run.sh shell    # chat in the terminal
#
# Both listen on loopback. The Rasa HTTP API stays closed; the action server
# (127.0.0.1:5055) only accepts the Rasa server's token (FAQ_ACTION_TOKEN).
# Logs and the tracker database go to var/, readable by the owner only.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 077

BIN=.venv/bin
MODEL=${RASA_MODEL:-models/faq.tar.gz}
HOST=${RASA_HOST:-127.0.0.1}
PORT=${RASA_PORT:-5005}
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
export FAQ_ACTION_TOKEN=${FAQ_ACTION_TOKEN:-$(scripts/secret.sh action-token)}
export FAQ_SESSION_SECRET=${FAQ_SESSION_SECRET:-$(scripts/secret.sh session-secret)}
export ACTIONS_HOST=${ACTIONS_HOST:-127.0.0.1} ACTIONS_PORT=5055

mkdir -p var/log
"$BIN/python" -m faq.content   # a broken content file stops here, with a clear message

"$BIN/python" -m actions >var/log/actions.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS http://127.0.0.1:5055/health >/dev/null 2>&1 && break
  kill -0 $ACTIONS_PID 2>/dev/null || { echo "Actieserver stopte; zie var/log/actions.log" >&2; exit 1; }
  sleep 0.5
done
echo "Actieserver draait op http://127.0.0.1:5055 (log: var/log/actions.log)"

if [ "${1:-}" = "shell" ]; then
  "$BIN/python" -m server shell --model "$MODEL" --endpoints endpoints.yml
  exit
fi

cat <<TXT
Rasa-server start op http://$HOST:$PORT ... Praat met de assistent:
  curl -s http://$HOST:$PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{"message": "waarom heb ik magnesium nodig voor vitamine d?"}'
  (het antwoord bevat een session_id; stuur die mee als "sender" in je volgende bericht)
  socket.io (website-widget): http://$HOST:$PORT/socket.io
De Rasa-API staat uit. Stoppen: Ctrl+C
TXT
"$BIN/python" -m server run --model "$MODEL" --interface "$HOST" --port "$PORT" \
  --credentials credentials.yml --endpoints endpoints.yml
