"""Settings of the Rasa server (channels, limits, stores), from the environment.

Channel credentials live in ``credentials.yml`` as Rasa's own channels keep
them; a secret may instead come from the environment variable named here, so
that ``credentials.yml`` never holds one. The README lists every variable.
"""

from __future__ import annotations

from faq.settings import env, env_float, env_int

#: Seconds a channel waits for the bot's reply before it apologises. The
#: conversation still completes in the background and is stored.
REPLY_TIMEOUT_SECONDS = env_float("FAQ_REPLY_TIMEOUT", 10)

#: Longest user message the channels accept, in characters.
MAX_MESSAGE_CHARS = env_int("FAQ_MAX_MESSAGE_CHARS", 1000)

# --- WhatsApp, both providers (server/channels/whatsapp_common.py) -----------

#: Database of handled message ids, unfinished work and each number's last
#: message (SQLAlchemy URL). Unset: ``sqlite:///var/whatsapp.db``. Replicas
#: share one database, e.g. the tracker store's PostgreSQL.
WHATSAPP_STORE_URL = env("FAQ_WHATSAPP_STORE_URL")

#: Days a handled message id is remembered (Meta retries for up to 7 days).
WHATSAPP_KEEP_DAYS = env_float("FAQ_WHATSAPP_KEEP_DAYS", 7)

#: Seconds to wait for the provider's API when sending one message.
WHATSAPP_SEND_TIMEOUT_SECONDS = env_float("FAQ_WHATSAPP_SEND_TIMEOUT", 10)

# --- WhatsApp via Twilio (server/channels/whatsapp_twilio.py) -----------------

#: Twilio account SID (``AC…``), used to send replies through Twilio's REST API.
TWILIO_ACCOUNT_SID = env("TWILIO_ACCOUNT_SID")

#: Twilio auth token: verifies ``X-Twilio-Signature`` and authenticates sending.
#: Without it the WhatsApp webhook rejects every request (HTTP 403).
TWILIO_AUTH_TOKEN = env("TWILIO_AUTH_TOKEN")

#: The bot's WhatsApp sender, e.g. ``whatsapp:+31612345678``.
TWILIO_WHATSAPP_NUMBER = env("TWILIO_WHATSAPP_NUMBER")

#: Public URL of the webhook exactly as configured in Twilio (needed behind a
#: proxy, where the URL Rasa sees differs). Unset: the URL of the request.
WHATSAPP_WEBHOOK_URL = env("FAQ_WHATSAPP_WEBHOOK_URL")

#: Base URL of Twilio's REST API (tests point it at a local fake server).
TWILIO_API_BASE_URL = env("TWILIO_API_BASE_URL", "https://api.twilio.com")

#: Longest WhatsApp message body in characters (Twilio's limit is 1600).
WHATSAPP_MAX_CHARS = min(env_int("FAQ_WHATSAPP_MAX_CHARS", 1600), 1600)

# --- WhatsApp via Meta's Cloud API (server/channels/whatsapp_meta.py) -----------

#: The Meta app's secret: checks ``X-Hub-Signature-256`` on every POST.
#: Without it the webhook rejects every POST (HTTP 403).
META_APP_SECRET = env("META_APP_SECRET")

#: The verify token entered in the app's webhook settings (GET handshake).
META_VERIFY_TOKEN = env("META_WHATSAPP_VERIFY_TOKEN")

#: Access token (a system user's) with ``whatsapp_business_messaging``.
META_ACCESS_TOKEN = env("META_WHATSAPP_ACCESS_TOKEN")

#: The business phone number's id (credentials.yml ``phone_number_id``).
META_PHONE_NUMBER_ID = env("META_WHATSAPP_PHONE_NUMBER_ID")

#: Graph API base URL and version (unset: ``https://graph.facebook.com``,
#: ``v21.0``; tests point the URL at a local fake).
META_GRAPH_API_URL = env("META_GRAPH_API_URL")
META_GRAPH_API_VERSION = env("META_GRAPH_API_VERSION")

# --- Customer-service lookup (server/channels/lookup.py) -----------------------

#: Token staff send as ``Authorization: Bearer …`` to the lookup route. Unset:
#: the route answers 403 to everyone.
STAFF_TOKEN = env("FAQ_STAFF_TOKEN")

# --- Limits ----------------------------------------------------------------------

#: Largest HTTP request body the Rasa server reads, in bytes (Sanic answers 413).
MAX_BODY_BYTES = env_int("FAQ_MAX_BODY_BYTES", 64 * 1024)

# --- Sessions and limits (server/sessions.py, server/limits.py) --------------------

#: Signs the session ids the REST and socket.io channels issue. Every replica
#: needs the same value; ``make run`` keeps one in var/secrets/session-secret.
SESSION_SECRET = env("FAQ_SESSION_SECRET")

#: Token for server-to-server REST use (``Authorization: Bearer …``): such a
#: client names its own conversations (``rest-api:<sender>``). Unset: off.
REST_TOKEN = env("FAQ_REST_TOKEN")

#: Messages per minute one IP address may send (with a burst of the same size).
RATE_PER_IP = env_int("FAQ_RATE_PER_IP", 60)

#: Messages per minute one conversation may send.
RATE_PER_CONVERSATION = env_int("FAQ_RATE_PER_CONVERSATION", 20)

#: Largest ``metadata`` object a client may attach to a message, as JSON bytes.
MAX_METADATA_BYTES = env_int("FAQ_MAX_METADATA_BYTES", 2048)

#: Longest sender / session id accepted, in characters.
MAX_SENDER_CHARS = env_int("FAQ_MAX_SENDER_CHARS", 128)

#: Where rate-limit counters live (a ``limits`` storage URI). Replicas share one.
RATE_LIMIT_STORAGE = env("FAQ_RATE_LIMIT_STORAGE", "async+memory://") or (
    "async+memory://"
)

#: Redis for state that replicas share besides locks and rate counters: which
#: socket.io connection holds a conversation (``redis://:password@host:port/db``).
#: Unset: kept in the process (``make run``, one Rasa server).
REDIS_URL = env("FAQ_REDIS_URL")

#: Optional token for ``GET /webhooks/status/`` (counts only; open when unset).
STATUS_TOKEN = env("FAQ_STATUS_TOKEN")
