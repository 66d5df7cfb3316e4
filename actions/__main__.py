"""Starts the action server: rasa-sdk's app, on loopback, behind a shared token.

``python -m actions`` replaces ``rasa run actions``, which binds 0.0.0.0 and
accepts any caller. Here:

- the server binds ``ACTIONS_HOST`` (default ``127.0.0.1``);
- with ``FAQ_ACTION_TOKEN`` set, only requests with
  ``Authorization: Bearer <token>`` reach ``/webhook`` and ``/actions``
  (the Rasa server sends it, see ``endpoints.yml``); others get a Dutch 401;
- it refuses to bind a non-loopback address without a token;
- errors never echo the request: the body holds a short Dutch message;
- the content file stays live: a background task looks for a changed file
  every ``FAQ_CONTENT_POLL_SECONDS`` and loads it after the same validation as
  at start (:mod:`faq.live`); a broken edit keeps the last good content;
- ``GET /content/status`` says which version is in service and why the last
  edit was refused, without a token (see :data:`OPEN_PATHS`).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import sys
import threading
from typing import Any, Optional, Text

from rasa_sdk.endpoint import create_app
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from actions import config
from faq import privacy, settings
from faq.live import LiveContent, live_content
from faq.privacy import install_log_masking
from faq.settings import is_loopback

logger = logging.getLogger(__name__)

#: Routes that need no token: the health check, and the content status for
#: editors and monitoring. The status holds only public facts (the content file's
#: name, version hash, times, the validation error of the last edit, whether a
#: retrain is needed), never a folder, a token or anything from a conversation;
#: the action token is a secret between the two servers and must not be handed
#: to editors just to see why an edit was refused.
OPEN_PATHS = {"/health", "/content/status"}


def authorized(request: Request, token: Optional[Text]) -> bool:
    """Returns whether a request may call the actions."""
    if not token or request.path in OPEN_PATHS:
        return True
    scheme, _, given = (request.headers.get("authorization") or "").partition(" ")
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode("utf-8"), token.encode("utf-8")
    )


async def watch_content(holder: LiveContent, interval: float) -> None:
    """Looks for a changed content file every ``interval`` seconds, forever.

    The reload runs in a worker thread so the event loop keeps answering; a
    refused edit is logged by the holder (once per edit).
    """
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(interval)
        try:
            await loop.run_in_executor(None, holder.refresh)
        except Exception:  # a bug here must not stop the watching
            logger.exception("controle van het contentbestand mislukt")


def build_app(
    token: Optional[Text] = config.ACTION_TOKEN,
    content: Optional[LiveContent] = None,
    poll_seconds: float = settings.CONTENT_POLL_SECONDS,
) -> Sanic:
    """Returns rasa-sdk's action server app with the token check and content status.

    Args:
        token: The shared token; None: no check (loopback only, see ``main``).
        content: The live content whose status is shown; defaults to the
            process's own (the one the actions read).
        poll_seconds: How often to look for a changed content file; 0: never.
    """
    app = create_app("actions", cors_origins=None)
    holder = content or live_content()

    @app.get("/content/status")
    async def content_status(request: Request) -> HTTPResponse:
        return response.json(holder.status())

    @app.listener("after_server_start")
    async def start_watching(app: Sanic, loop: Any) -> None:
        if poll_seconds > 0:
            app.ctx.content_watch = loop.create_task(
                watch_content(holder, poll_seconds)
            )

    @app.listener("before_server_stop")
    async def stop_watching(app: Sanic, loop: Any) -> None:
        task = getattr(app.ctx, "content_watch", None)
        if task is not None:
            task.cancel()

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
    install_log_masking()
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
    status = live_content().status()
    logger.info(
        "contentbestand %s versie %s; live herladen %s",
        status["file"],
        status["version"],
        f"elke {settings.CONTENT_POLL_SECONDS:g} s"
        if settings.CONTENT_POLL_SECONDS > 0
        else "uit",
    )
    app.run(config.HOST, config.PORT, workers=1, access_log=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
