"""Small helpers shared by the tests."""

from __future__ import annotations

import asyncio
import contextlib
import re
from pathlib import Path
from typing import Any, AsyncIterator, Dict, List, Optional

from rasa_sdk import Tracker

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

#: Very common Dutch function words; English text hits few of them.
DUTCH_WORDS = {
    "de",
    "het",
    "een",
    "en",
    "je",
    "van",
    "is",
    "in",
    "dat",
    "op",
    "niet",
    "met",
    "voor",
    "of",
    "ook",
    "kan",
    "bij",
    "jouw",
    "wat",
    "over",
    "zijn",
    "dan",
    "aan",
    "hier",
    "iets",
    "had",
    "heb",
    "er",
    "te",
    "naar",
    "nog",
    "wel",
    "geen",
}
ENGLISH_WORDS = {
    "the",
    "and",
    "you",
    "did",
    "mean",
    "sorry,",
    "please",
    "error",
    "your",
}


def looks_dutch(text: str) -> bool:
    """Returns whether a text reads as Dutch: Dutch function words, no English."""
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    dutch = sum(w in DUTCH_WORDS for w in words)
    english = sum(w in ENGLISH_WORDS for w in words)
    return dutch >= 2 and dutch > 2 * english


def make_tracker(
    intent: Optional[str] = None,
    confidence: float = 0.95,
    ranking: Optional[List[Dict[str, Any]]] = None,
    slots: Optional[Dict[str, Any]] = None,
    entities: Optional[List[Dict[str, Any]]] = None,
    text: str = "",
) -> Tracker:
    """Builds a rasa-sdk Tracker whose latest message has this NLU result."""
    latest = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence} if intent else {},
        "intent_ranking": ranking
        if ranking is not None
        else ([{"name": intent, "confidence": confidence}] if intent else []),
        "entities": entities or [],
    }
    return Tracker(
        "test-user",
        dict(slots or {}),
        latest,
        [],
        False,
        None,
        {},
        "action_listen",
    )


def free_port() -> int:
    """Returns a TCP port on 127.0.0.1 that is free right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.asynccontextmanager
async def serve_sanic(app: Any) -> AsyncIterator[str]:
    """Serves a Sanic app on a free port of 127.0.0.1; yields its base URL."""
    from sanic import Sanic

    Sanic.test_mode = True  # lets one process start several apps
    port = free_port()
    server = await app.create_server(
        host="127.0.0.1", port=port, return_asyncio_server=True
    )
    await server.startup()
    await server.before_start()
    serving = asyncio.ensure_future(server.serve_forever())
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        serving.cancel()
        await server.close()


@contextlib.asynccontextmanager
async def serve_app(
    blueprint: Any, url_prefix: str = "", agent: Any = None, *more: Any
) -> AsyncIterator[str]:
    """Serves channel blueprints in a real Sanic app on a free port.

    Args:
        blueprint: The channel's blueprint.
        url_prefix: Where Rasa would mount it (e.g. ``/webhooks/rest``).
        agent: Put in ``app.ctx.agent`` (as Rasa does), if given.
        *more: Further ``(blueprint, url_prefix)`` pairs.

    Yields:
        The base URL, e.g. ``http://127.0.0.1:54321``.
    """
    from sanic import Sanic

    Sanic.test_mode = True
    app = Sanic(f"test_app_{free_port()}")
    for bp, prefix in ((blueprint, url_prefix), *more):
        app.blueprint(bp, url_prefix=prefix or None)
    app.ctx.agent = agent
    async with serve_sanic(app) as url:
        yield url


#: Words of short Dutch error messages ("Geen toegang.", "Het verzoek is te groot.").
DUTCH_MARKERS = DUTCH_WORDS | {
    "geen",
    "te",
    "deze",
    "dit",
    "ongeldig",
    "ongeldige",
    "toegang",
    "verzoek",
    "bestaat",
    "stuur",
    "veld",
    "moet",
    "tekst",
    "sessie",
    "berichten",
    "wacht",
    "probeer",
    "opnieuw",
    "methode",
    "toegestaan",
    "groot",
    "token",
}


def looks_dutch_error(text: object) -> bool:
    """Returns whether a (short) error message is Dutch and not English."""
    if not isinstance(text, str) or not text.strip():
        return False
    words = re.findall(r"[a-zà-ÿ]+", text.lower())
    dutch = sum(w in DUTCH_MARKERS for w in words)
    english = sum(w in ENGLISH_WORDS | {"not", "is", "allowed", "found"} for w in words)
    return dutch >= 1 and english <= dutch and "traceback" not in text.lower()


def one_answer(messages: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Returns the one answer of a bot turn (the REST reply list), checked.

    The bot answers every user turn with exactly one whole message. After a
    content answer the feedback question may follow (Ja/Nee buttons, same
    topic; actions/feedback.py); it is checked and set aside.
    """
    from faq.content import CONTENT_TOPIC_IDS, CONVERSATION_TOPIC_IDS, DOSE_PATTERN

    last = (messages[-1].get("custom") or {}) if messages else {}
    if len(messages) == 2 and last.get("feedback") == "vraag":
        assert last["topic"] == messages[0]["custom"]["topic"]
        assert [b["title"] for b in messages[1]["buttons"]] == ["Ja", "Nee"]
        assert messages[1]["text"] == "Had je hier iets aan?"
        messages = messages[:1]
    assert len(messages) == 1, messages
    message = messages[0]
    topics = set(CONTENT_TOPIC_IDS) | set(CONVERSATION_TOPIC_IDS)
    assert message["custom"]["topic"] in topics
    assert isinstance(message["custom"]["sources"], list)
    assert looks_dutch(message["text"]), message["text"]
    assert not DOSE_PATTERN.search(message["text"])
    return message
