"""Customer-service lookup as a route of the Rasa server.

``POST /webhooks/lookup/query`` with ``{"q": "vraag van de klant"}`` and the
header ``Authorization: Bearer <FAQ_STAFF_TOKEN>`` returns the top content
topics with answer and sources (:mod:`faq.lookup`). The question is parsed by
the agent in this process, so the Rasa HTTP API stays closed.

- Without ``FAQ_STAFF_TOKEN`` configured, every request gets 403: the route
  is closed by default.
- The question is capped (``FAQ_MAX_MESSAGE_CHARS``) and never logged.
- Every error is Dutch JSON.

Credentials (``credentials.yml``)::

    server.channels.lookup.StaffLookupInput:
      top_k: 3
"""

from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from faq.content import get_content
from faq.lookup import DEFAULT_TOP_K, lookup, validate_query
from server import settings
from server.channels.guard import (
    bearer_token,
    dutch_error,
    install_http_hardening,
    token_matches,
)

logger = logging.getLogger(__name__)


class StaffLookupInput(InputChannel):
    """The staff lookup route (not a chat channel: it never starts a turn)."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix: /webhooks/lookup."""
        return "lookup"

    @classmethod
    def from_credentials(
        cls, credentials: Optional[Dict[Text, Any]]
    ) -> "StaffLookupInput":
        """Creates the route from its ``credentials.yml`` section."""
        credentials = credentials or {}
        return cls(top_k=int(credentials.get("top_k", DEFAULT_TOP_K)))

    def __init__(self, top_k: int = DEFAULT_TOP_K) -> None:
        self.top_k = max(1, top_k)

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the lookup routes."""
        lookup_bp = Blueprint("faq_staff_lookup", __name__)
        install_http_hardening(lookup_bp)

        @lookup_bp.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @lookup_bp.route("/query", methods=["POST"])
        async def query(request: Request) -> HTTPResponse:
            return await self.answer(request)

        return lookup_bp

    async def answer(self, request: Request) -> HTTPResponse:
        """Authenticates, validates and answers one lookup request."""
        if not settings.STAFF_TOKEN:
            return dutch_error(
                403, "De opzoekfunctie staat uit: er is geen FAQ_STAFF_TOKEN ingesteld."
            )
        if not token_matches(bearer_token(request), settings.STAFF_TOKEN):
            logger.warning("lookup: request without a valid staff token refused")
            return dutch_error(
                401, "Geen geldig medewerkerstoken (Authorization: Bearer …)."
            )
        try:
            body = request.json
        except Exception:  # Sanic raises InvalidUsage on bad JSON
            body = None
        if not isinstance(body, dict):
            return dutch_error(
                400, 'Stuur een JSON-object, bijvoorbeeld {"q": "je vraag"}.'
            )
        text, problem = validate_query(body.get("q"))
        if problem is not None or text is None:
            status, message = problem or (400, "Ongeldige vraag.")
            return dutch_error(status, message)
        agent = getattr(request.app.ctx, "agent", None)
        if agent is None or not agent.is_ready():
            return dutch_error(503, "Het model is nog niet geladen. Probeer het zo.")
        parse_result = await agent.parse_message(text)
        topics = lookup(parse_result, get_content(), self.top_k)
        logger.info(
            "lookup: %d topics, top=%s",
            len(topics),
            topics[0]["topic"] if topics else None,
        )
        return response.json({"query": text, "topics": topics})
