"""Settings of the action server, read once from environment variables.

Every variable has a default, so the assistant runs without any configuration.
The README lists them; ``.env.example`` shows them with their defaults. The
content file path is shared with the Rasa server (:mod:`faq.settings`).
"""

from __future__ import annotations

from faq.settings import env, env_float, env_int

#: How many related-topic buttons an answer offers (the product asks for 2-3).
MAX_SUGGESTIONS = env_int("FAQ_MAX_SUGGESTIONS", 3)

#: Minimum NLU confidence for a topic to be offered as a suggestion button.
SUGGESTION_MIN_CONFIDENCE = env_float("FAQ_SUGGESTION_MIN_CONFIDENCE", 0.02)

#: Customer-service contact details. Never invented: unset means "not shown".
CUSTOMER_SERVICE_URL = env("FAQ_KLANTENSERVICE_URL")
CUSTOMER_SERVICE_EMAIL = env("FAQ_KLANTENSERVICE_EMAIL")
CUSTOMER_SERVICE_PHONE = env("FAQ_KLANTENSERVICE_TELEFOON")
CUSTOMER_SERVICE_HOURS = env("FAQ_KLANTENSERVICE_OPENINGSTIJDEN")

#: Links for the `kennisbank` topic. Unset means "not shown".
KNOWLEDGE_BASE_URL = env("FAQ_KENNISBANK_URL")
MAGNESIUM_TEST_URL = env("FAQ_MAGNESIUMTEST_URL")

#: Where the transcript goes when a user asks for a person (JSON POST). Unset:
#: the handoff is only logged.
HANDOFF_URL = env("FAQ_HANDOFF_URL")

#: Seconds to wait for the handoff endpoint.
HANDOFF_TIMEOUT_SECONDS = env_float("FAQ_HANDOFF_TIMEOUT", 3)

#: At most one transcript per conversation per this many seconds; asking again
#: sooner repeats the contact details without a second post.
HANDOFF_MIN_INTERVAL_SECONDS = env_float("FAQ_HANDOFF_MIN_INTERVAL", 600)

#: Where the action server listens. Loopback by default: only the Rasa server
#: on this machine calls it.
HOST = env("ACTIONS_HOST", "127.0.0.1") or "127.0.0.1"
PORT = env_int("ACTIONS_PORT", 5055)

#: Shared token the Rasa server sends as ``Authorization: Bearer …``
#: (``endpoints.yml``). Set: every other call gets 401. Required when the
#: action server listens on anything but loopback.
ACTION_TOKEN = env("FAQ_ACTION_TOKEN")

#: "Had je hier iets aan?": asked after the first content answer of a session,
#: then at most after every this-many content answers, never twice about one
#: topic (actions/feedback.py). 0 turns the question off; 1 counts as 2, so it
#: is never asked twice in a row.
FEEDBACK_INTERVAL = env_int("FAQ_FEEDBACK_INTERVAL", 3)
