"""Starts the action server: rasa-sdk's app, on loopback, behind a shared token.

``python -m actions`` replaces ``rasa run actions``, which binds 0.0.0.0 and
accepts any caller. Here:

- the server binds ``ACTIONS_HOST`` (default ``127.0.0.1``);
- with ``FAQ_ACTION_TOKEN`` set, only requests with
  ``Authorization: Bearer <token>`` reach ``/webhook`` and ``/actions``
  (the Rasa server sends it, see ``endpoints.yml``); others get a Dutch 401;
- it refuses to bind a non-loopback address without a token;
- errors never echo the request: the body holds a short Dutch message.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import sys
import threading
from typing import Any, Optional, Text

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import config
from faq import privacy

logger = logging.getLogger(__name__)

#: Routes anyone on the host may call (for health checks).
OPEN_PATHS = {"/health"}


def is_loopback(host: Text) -> bool:
    """Returns whether ``host`` is a loopback address or ``localhost``."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def authorized(request: Request, token: Optional[Text]) -> bool:
    """Returns whether a request may call the actions."""
    if not token or request.path in OPEN_PATHS:
        return True
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    )


def build_app(token: Optional[Text] = config.ACTION_TOKEN) -> Sanic:
    """Returns rasa-sdk's action server app with the token check added."""
    app = create_app("actions", cors_origins=None)

    @app.middleware("request")
    async def require_token(request: Request) -> Optional[HTTPResponse]:
        if authorized(request, token):
            return None
        logger.warning("action call without a valid token refused")
        return response.json(
            {"error": "Geen toegang: ongeldig of ontbrekend token."}, status=401
        )

    async def on_error(request: Request, exception: Exception) -> HTTPResponse:
        status = int(getattr(exception, "status_code", 500) or 500)
        if status >= 500:
            logger.error("action server error", exc_info=exception)
        text = (
            "Er ging iets mis in de actieserver."
            if status >= 500
            else "Dit verzoek kan de actieserver niet verwerken."
        )
        return response.json({"error": text}, status=status)

    app.error_handler.add(Exception, on_error)
    return app


def main(argv: Any = None) -> int:
    """Runs the action server until it is stopped."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    if not is_loopback(config.HOST) and not config.ACTION_TOKEN:
        print(
            f"FOUT: de actieserver luistert op {config.HOST}, niet alleen lokaal; "
            "zet FAQ_ACTION_TOKEN (ook in endpoints.yml van de Rasa-server).",
            file=sys.stderr,
        )
        return 2
    app = build_app()
    # The handoff de-identifies the transcript: load deduce before the first one.
    threading.Thread(target=privacy.warm_up, name="deidentify", daemon=True).start()
    logger.info(
        "action server on http://%s:%d (token %s)",
        config.HOST,
        config.PORT,
        "vereist" if config.ACTION_TOKEN else "uit",
    )
    app.run(config.HOST, config.PORT, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
