"""Health and fault counters for monitoring: ``GET /webhooks/status/``.

Returns ``{"status": "ok"|"degraded", "recent_faults", "uptime_seconds",
"counters"}`` (:mod:`server.monitoring`): how many apologies, storage
failures, refused requests and rate-limited messages there were. Only names
and numbers, no texts or ids, so it may be scraped without a token; set
``FAQ_STATUS_TOKEN`` to require ``Authorization: Bearer …`` anyway.
"""

from __future__ import annotations

from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from server import monitoring, settings
from server.channels.guard import (
    bearer_token,
    dutch_error,
    install_http_hardening,
    token_matches,
)


class StatusInput(InputChannel):
    """The monitoring route (not a chat channel)."""

    @classmethod
    def name(cls) -> Text:
        """URL prefix: /webhooks/status."""
        return "status"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> "StatusInput":
        """Creates the route; it has no settings in ``credentials.yml``."""
        return cls()

    def blueprint(
        self, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> Blueprint:
        """Returns the status route."""
        status_bp = Blueprint("faq_status", __name__)
        install_http_hardening(status_bp)

        @status_bp.route("/", methods=["GET"])
        async def status(request: Request) -> HTTPResponse:
            if settings.STATUS_TOKEN and not token_matches(
                bearer_token(request), settings.STATUS_TOKEN
            ):
                return dutch_error(401)
            snapshot = monitoring.snapshot()
            agent = getattr(request.app.ctx, "agent", None)
            snapshot["model_loaded"] = bool(agent is not None and agent.is_ready())
            return response.json(snapshot)

        return status_bp
