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
