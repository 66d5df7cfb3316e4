#!/usr/bin/env bash
# Starts the action server, then the Rasa server (REST + socket.io) or a chat.
#
#   scripts/run.sh          # serve on http://$RASA_HOST:$RASA_PORT (default 127.0.0.1:5005)
#   scripts/run.sh shell    # chat in the terminal
#
# The action server listens on 127.0.0.1:5055 (endpoints.yml).
set -euo pipefail
cd "$(dirname "$0")/.."

BIN=.venv/bin
MODEL=${RASA_MODEL:-models/faq.tar.gz}
HOST=${RASA_HOST:-127.0.0.1}
PORT=${RASA_PORT:-5005}
export RASA_TELEMETRY_ENABLED=false TF_CPP_MIN_LOG_LEVEL=2 SQLALCHEMY_SILENCE_UBER_WARNING=1
export SANIC_HOST=${ACTIONS_HOST:-127.0.0.1}

mkdir -p logs
"$BIN/python" -m actions.content   # a broken content file stops here, with a clear message

"$BIN/rasa" run actions --actions actions --port 5055 >logs/actions.log 2>&1 &
ACTIONS_PID=$!
trap 'kill $ACTIONS_PID 2>/dev/null || true' EXIT
for _ in $(seq 1 60); do
  curl -fsS http://127.0.0.1:5055/health >/dev/null 2>&1 && break
  kill -0 $ACTIONS_PID 2>/dev/null || { echo "Action server stopte; zie logs/actions.log" >&2; exit 1; }
  sleep 0.5
done
echo "Action server draait op http://127.0.0.1:5055 (log: logs/actions.log)"

if [ "${1:-}" = "shell" ]; then
  "$BIN/rasa" shell --model "$MODEL" --endpoints endpoints.yml
  exit
fi

cat <<TXT
Rasa-server start op http://$HOST:$PORT ... Praat met de assistent:
  curl -s http://$HOST:$PORT/webhooks/rest/webhook -H 'Content-Type: application/json' \\
       -d '{"sender": "ik", "message": "waarom heb ik magnesium nodig voor vitamine d?"}'
  socket.io (website-widget): http://$HOST:$PORT/socket.io
Stoppen: Ctrl+C
TXT
"$BIN/rasa" run --model "$MODEL" --interface "$HOST" --port "$PORT" --enable-api \
  --credentials credentials.yml --endpoints endpoints.yml
