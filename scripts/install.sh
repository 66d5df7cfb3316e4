#!/usr/bin/env bash
# Creates .venv with Python 3.10 and installs the pinned dependencies.
#
# Idempotent: re-running is cheap when requirements.txt and constraints.txt are
# unchanged (a stamp file in .venv records their hash). Also makes sure a Dutch
# spaCy pipeline is available (see scripts/spacy_pipeline.py).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
NL_MODEL_URL=${NL_MODEL_URL:-https://github.com/explosion/spacy-models/releases/download/nl_core_news_sm-3.4.0/nl_core_news_sm-3.4.0-py3-none-any.whl}

find_python310() {
  local candidates=()
  [ -n "${PYTHON:-}" ] && candidates+=("$PYTHON")
  candidates+=(python3.10)
  if command -v pyenv >/dev/null 2>&1; then
    local root
    root=$(pyenv root)
    for p in "$root"/versions/3.10*/bin/python3.10; do candidates+=("$p"); done
  fi
  for p in "$HOME"/.pyenv/versions/3.10*/bin/python3.10 /usr/bin/python3.10 /usr/local/bin/python3.10; do
    candidates+=("$p")
  done
  for c in "${candidates[@]}"; do
    if "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 10) else 1)' >/dev/null 2>&1; then
      echo "$c"
      return 0
    fi
  done
  return 1
}

if [ ! -x "$VENV/bin/python" ]; then
  if ! PY=$(find_python310); then
    echo "FOUT: Python 3.10 is nodig (Rasa 3.6 draait niet op nieuwere versies) maar niet gevonden." >&2
    echo "      Installeer het, bijvoorbeeld met 'pyenv install 3.10.13', of wijs het aan met PYTHON=/pad/naar/python3.10." >&2
    exit 1
  fi
  echo "install: Python 3.10 gevonden: $PY"
  "$PY" -m venv "$VENV"
fi

stamp="$VENV/.installed-$(cat requirements.txt constraints.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  "$VENV/bin/python" -m pip install --quiet --upgrade "pip==24.0"
  "$VENV/bin/python" -m pip install --quiet -r requirements.txt -c constraints.txt
  rm -f "$VENV"/.installed-*
  touch "$stamp"
fi

# The client asked for nl_core_news_sm. Try the release that matches spaCy 3.4;
# its host may be unreachable, so fail fast and fall back to our own pipeline.
if ! "$VENV/bin/python" -c 'import nl_core_news_sm' >/dev/null 2>&1; then
  "$VENV/bin/python" -m pip install --quiet --no-deps --timeout 10 --retries 0 "$NL_MODEL_URL" >/dev/null 2>&1 || true
fi
"$VENV/bin/python" scripts/spacy_pipeline.py ensure

# Browser tests: Debian's Chromium ('npx playwright install' cannot download here).
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "install: Chromium installeren (apt-get) voor de browsertest ..."
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "LET OP: installeer Chromium (apt-get install chromium) voor de browsertest." >&2
  fi
fi
# Demo page: the pinned widget (web/package-lock.json).
if command -v npm >/dev/null 2>&1 && [ ! -f web/node_modules/rasa-webchat/lib/index.js ]; then
  echo "install: chatwidget installeren (npm ci) ..."
  (cd web && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error)
fi
