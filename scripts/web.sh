#!/usr/bin/env bash
# Serves the demo page (knowledge-base article + chat widget) on 127.0.0.1.
#
#   scripts/web.sh                      # http://127.0.0.1:8080, Rasa at http://127.0.0.1:5005
#   WEB_PORT=8090 FAQ_RASA_URL=http://127.0.0.1:5006 scripts/web.sh
#
# Installs the pinned widget (web/package-lock.json) with `npm ci` when
# web/node_modules is missing. Everything is served locally: no CDN.
# The Rasa server must allow the page origin: cors_allowed_origins in credentials.yml.
set -euo pipefail
cd "$(dirname "$0")/../web"

export WEB_HOST=${WEB_HOST:-127.0.0.1}
export WEB_PORT=${WEB_PORT:-8080}
export FAQ_RASA_URL=${FAQ_RASA_URL:-http://127.0.0.1:5005}

command -v node >/dev/null 2>&1 || { echo "FOUT: Node.js (18 of nieuwer) is nodig voor de demo-pagina." >&2; exit 1; }

if [ ! -f node_modules/rasa-webchat/lib/index.js ]; then
  echo "web: widget installeren (npm ci) ..."
  # --ignore-scripts: the widget ships a prebuilt bundle; no install script is needed.
  npm ci --no-audit --no-fund --ignore-scripts
fi

exec node server.js
