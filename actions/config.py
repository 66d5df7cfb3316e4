"""All settings of the action server, read once from environment variables.

Every variable has a default, so the assistant runs without any configuration.
The README lists them; `.env.example` shows them with their defaults.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional, Text

PACKAGE_DIR = Path(__file__).resolve().parent
PROJECT_DIR = PACKAGE_DIR.parent


def _env(name: Text, default: Optional[Text] = None) -> Optional[Text]:
    """Returns an environment variable, treating an empty value as unset."""
    value = os.environ.get(name, "").strip()
    return value or default


#: The structured content file: the only place where article answers live.
CONTENT_FILE = Path(
    _env("FAQ_CONTENT_FILE", str(PROJECT_DIR / "content" / "kennisbank.yml"))
)

#: How many related-topic buttons an answer offers (the product asks for 2-3).
MAX_SUGGESTIONS = int(_env("FAQ_MAX_SUGGESTIONS", "3") or 3)

#: Minimum NLU confidence for a topic to be offered as a suggestion button.
SUGGESTION_MIN_CONFIDENCE = float(_env("FAQ_SUGGESTION_MIN_CONFIDENCE", "0.02") or 0)

#: Customer-service contact details. Never invented: unset means "not shown".
CUSTOMER_SERVICE_URL = _env("FAQ_KLANTENSERVICE_URL")
CUSTOMER_SERVICE_EMAIL = _env("FAQ_KLANTENSERVICE_EMAIL")
CUSTOMER_SERVICE_PHONE = _env("FAQ_KLANTENSERVICE_TELEFOON")
CUSTOMER_SERVICE_HOURS = _env("FAQ_KLANTENSERVICE_OPENINGSTIJDEN")

#: Links for the `kennisbank` topic. Unset means "not shown".
KNOWLEDGE_BASE_URL = _env("FAQ_KENNISBANK_URL")
MAGNESIUM_TEST_URL = _env("FAQ_MAGNESIUMTEST_URL")

# --- Rasa-server side (channels/) -------------------------------------------

#: Seconds a channel waits for the bot's reply before it apologises. The
#: conversation still completes in the background and is stored.
REPLY_TIMEOUT_SECONDS = float(_env("FAQ_REPLY_TIMEOUT", "10") or 10)

#: Longest user message the channels accept, in characters.
MAX_MESSAGE_CHARS = int(_env("FAQ_MAX_MESSAGE_CHARS", "1000") or 1000)

# --- WhatsApp (channels/whatsapp.py) -----------------------------------------
# Twilio credentials may also come from credentials.yml (account_sid, auth_token,
# twilio_number, webhook_url); these environment variables take precedence.

#: Twilio account SID (``AC…``), used to send replies through Twilio's REST API.
TWILIO_ACCOUNT_SID = _env("TWILIO_ACCOUNT_SID")

#: Twilio auth token: verifies ``X-Twilio-Signature`` and authenticates sending.
#: Without it the WhatsApp webhook rejects every request (HTTP 403).
TWILIO_AUTH_TOKEN = _env("TWILIO_AUTH_TOKEN")

#: The bot's WhatsApp sender, e.g. ``whatsapp:+31612345678``.
TWILIO_WHATSAPP_NUMBER = _env("TWILIO_WHATSAPP_NUMBER")

#: Public URL of the webhook exactly as configured in Twilio (needed behind a
#: proxy, where the URL Rasa sees differs). Unset: the URL of the request.
WHATSAPP_WEBHOOK_URL = _env("FAQ_WHATSAPP_WEBHOOK_URL")

#: Base URL of Twilio's REST API (tests point it at a local fake server).
TWILIO_API_BASE_URL = _env("TWILIO_API_BASE_URL", "https://api.twilio.com")

#: Seconds to wait for Twilio's REST API when sending one message.
TWILIO_TIMEOUT_SECONDS = float(_env("FAQ_TWILIO_TIMEOUT", "10") or 10)

#: Longest WhatsApp message body in characters (Twilio's limit is 1600).
WHATSAPP_MAX_CHARS = min(int(_env("FAQ_WHATSAPP_MAX_CHARS", "1600") or 1600), 1600)

#: How many senders' last offered options (numbered buttons) are remembered.
WHATSAPP_REMEMBERED_SENDERS = int(
    _env("FAQ_WHATSAPP_REMEMBERED_SENDERS", "10000") or 10000
)

# --- Handoff to customer service (actions/handoff.py) -------------------------

#: Where the transcript goes when a user asks for a person (JSON POST). Unset:
#: the handoff is only logged.
HANDOFF_URL = _env("FAQ_HANDOFF_URL")

#: Seconds to wait for the handoff endpoint.
HANDOFF_TIMEOUT_SECONDS = float(_env("FAQ_HANDOFF_TIMEOUT", "3") or 3)
