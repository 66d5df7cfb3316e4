"""Agent lookup: the top content topics for a customer's question.

Customer-service staff paste a customer's question; the trained Rasa model
classifies it (``POST /model/parse`` on a Rasa server started with
``--enable-api``) and this script shows the best-matching content topics with
their short answer and sources. All answer text comes from the content file
through :mod:`actions.content`.

Usage:
    python scripts/lookup.py "vraag van de klant" [--url URL] [--json] [-k N]
    python scripts/lookup.py --serve [--port 8765] [--rasa-url URL]

The server listens on 127.0.0.1 only and answers ``GET /lookup?q=...`` and
``POST /lookup`` with a JSON body ``{"q": "..."}``.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple
from urllib.parse import parse_qs, urlsplit

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from actions.content import Content, ContentError, load_content  # noqa: E402

DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_PORT = 8765
DEFAULT_TOP_K = 3
#: Longest question accepted, in characters (same limit as the chat channels).
MAX_QUERY_CHARS = 1000
#: Largest POST body read, in bytes.
MAX_BODY_BYTES = 64 * 1024
RASA_TIMEOUT_SECONDS = 10.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}

#: Parses a question into a Rasa NLU result; raises RasaUnavailable on failure.
Parser = Callable[[str], Dict[str, Any]]


class RasaUnavailable(Exception):
    """The Rasa server could not be reached or gave no usable parse result."""


def rasa_parse(
    text: str, rasa_url: str = DEFAULT_RASA_URL, timeout: float = RASA_TIMEOUT_SECONDS
) -> Dict[str, Any]:
    """Sends a question to Rasa's ``POST /model/parse`` and returns the result.

    Args:
        text: The question.
        rasa_url: Base URL of the Rasa server (started with ``--enable-api``).
        timeout: Seconds to wait for the server.

    Returns:
        The parse result, with at least ``intent`` or ``intent_ranking``.

    Raises:
        RasaUnavailable: With a Dutch message naming the URL, when the server
            cannot be reached, answers with an error or sends no parse result.
    """
    base = rasa_url.rstrip("/")
    endpoint = f"{base}/model/parse"
    session = requests.Session()
    # A local Rasa server must never be reached through a corporate proxy.
    session.trust_env = urlsplit(base).hostname not in LOCAL_HOSTS
    try:
        response = session.post(endpoint, json={"text": text}, timeout=timeout)
    except requests.RequestException:
        raise RasaUnavailable(
            f"Kan de Rasa-server op {base} niet bereiken. Draait hij, en is hij "
            "gestart met --enable-api (bijvoorbeeld met 'make run')?"
        ) from None
    finally:
        session.close()
    if response.status_code != 200:
        hint = ""
        if response.status_code in (403, 404, 405):
            hint = " Is de server gestart met --enable-api?"
        raise RasaUnavailable(
            f"De Rasa-server op {base} gaf status {response.status_code} op "
            f"/model/parse.{hint}"
        )
    try:
        result = response.json()
    except ValueError:
        result = None
    if not isinstance(result, dict) or not (
        "intent_ranking" in result or "intent" in result
    ):
        raise RasaUnavailable(
            f"De Rasa-server op {base} gaf geen bruikbaar antwoord op /model/parse."
        )
    return result


def _ranking(parse_result: Dict[str, Any]) -> List[Tuple[str, float]]:
    """Returns (intent, confidence) pairs from a parse result, best first."""
    entries = parse_result.get("intent_ranking") or []
    if not entries and isinstance(parse_result.get("intent"), dict):
        entries = [parse_result["intent"]]
    pairs: List[Tuple[str, float]] = []
    for entry in entries:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        try:
            confidence = float(entry.get("confidence") or 0.0)
        except (TypeError, ValueError):
            confidence = 0.0
        pairs.append((entry["name"], confidence))
    return sorted(pairs, key=lambda pair: pair[1], reverse=True)


def lookup(
    parse_result: Dict[str, Any], content: Content, k: int = DEFAULT_TOP_K
) -> List[Dict[str, Any]]:
    """Turns a Rasa NLU parse result into the top-k content topics.

    Intents that are not content topics (conversation topics, follow-ups,
    ``nlu_fallback``) are skipped.

    Args:
        parse_result: The JSON of Rasa's ``POST /model/parse`` (``intent`` and
            ``intent_ranking`` with ``name`` and ``confidence``).
        content: The loaded content file.
        k: How many topics to return at most.

    Returns:
        Up to ``k`` topics, highest confidence first, each a dict with
        ``topic``, ``title``, ``confidence`` (rounded to 3 decimals), ``short``,
        ``long``, ``sources`` (``number``, ``label``, ``url``) and
        ``sources_note`` (None unless the article names no source).
    """
    results: List[Dict[str, Any]] = []
    seen = set()
    for name, confidence in _ranking(parse_result):
        topic = content.topic(name)
        if topic is None or name in seen:
            continue
        seen.add(name)
        results.append(
            {
                "topic": topic.id,
                "title": topic.title,
                "confidence": round(confidence, 3),
                "short": topic.short,
                "long": topic.long,
                "sources": [s.as_payload() for s in content.sources_of(topic)],
                "sources_note": topic.sources_note,
            }
        )
        if len(results) >= k:
            break
    return results


def percent(confidence: float) -> str:
    """Formats a confidence as a Dutch percentage, e.g. ``87,3%``."""
    return f"{confidence * 100:.1f}%".replace(".", ",")


def format_text(query: str, topics: List[Dict[str, Any]]) -> str:
    """Formats lookup results as readable Dutch text for the terminal.

    Args:
        query: The customer's question.
        topics: The result of :func:`lookup`.

    Returns:
        The text, without a trailing newline.
    """
    lines = [f"Vraag: {query}", ""]
    if not topics:
        lines.append(
            "Geen passend onderwerp gevonden. Formuleer de vraag anders of zoek "
            "in het antwoordenboek."
        )
        return "\n".join(lines)
    for rank, item in enumerate(topics, start=1):
        lines.append(
            f"{rank}. {item['title']} [{item['topic']}] "
            f"(zekerheid {percent(item['confidence'])})"
        )
        lines.append(f"   Kort antwoord: {item['short']}")
        if item["sources"]:
            lines.append("   Bronnen:")
            for source in item["sources"]:
                lines.append(f"   - [{source['number']}] {source['label']}")
                lines.append(f"     {source['url']}")
        if item.get("sources_note"):
            lines.append(f"   Bronnen: {item['sources_note']}")
        lines.append("")
    return "\n".join(lines).rstrip()


def validate_query(query: Any) -> Tuple[Optional[str], Optional[Tuple[int, str]]]:
    """Checks a question from a request.

    Args:
        query: The ``q`` value from the request, of any type.

    Returns:
        ``(question, None)`` with the stripped question when it is valid, or
        ``(None, (status, Dutch error))`` when it is not.
    """
    if query is not None and not isinstance(query, str):
        return None, (400, "Het veld 'q' moet tekst zijn.")
    text = (query or "").strip()
    if not text:
        return None, (400, "Geef een vraag mee in 'q', bijvoorbeeld /lookup?q=...")
    if len(text) > MAX_QUERY_CHARS:
        return None, (
            413,
            f"De vraag is te lang: maximaal {MAX_QUERY_CHARS} tekens.",
        )
    return text, None


def answer_query(
    query: Any, parse: Parser, content: Content, k: int = DEFAULT_TOP_K
) -> Tuple[int, Dict[str, Any]]:
    """Answers one lookup request once its ``q`` has been read.

    Args:
        query: The ``q`` value from the request (validated here).
        parse: Sends a question to Rasa; raises :class:`RasaUnavailable`.
        content: The loaded content file.
        k: How many topics to return at most.

    Returns:
        The HTTP status and the JSON body: ``{"query", "topics"}`` on success,
        ``{"error"}`` otherwise (400, 413 or 502).
    """
    text, problem = validate_query(query)
    if problem is not None or text is None:
        status, message = problem or (400, "Ongeldige vraag.")
        return status, {"error": message}
    try:
        parse_result = parse(text)
    except RasaUnavailable as error:
        return 502, {"error": str(error)}
    return 200, {"query": text, "topics": lookup(parse_result, content, k)}


def handle_get(
    target: str, parse: Parser, content: Content, k: int = DEFAULT_TOP_K
) -> Tuple[int, Dict[str, Any]]:
    """Handles ``GET /lookup?q=...``.

    Args:
        target: The request target (path and query string).
        parse: Sends a question to Rasa; raises :class:`RasaUnavailable`.
        content: The loaded content file.
        k: How many topics to return at most.

    Returns:
        The HTTP status and the JSON body.
    """
    url = urlsplit(target)
    if url.path.rstrip("/") != "/lookup":
        return 404, {"error": "Onbekend pad. Gebruik /lookup?q=..."}
    values = parse_qs(url.query, keep_blank_values=True).get("q")
    return answer_query(values[0] if values else None, parse, content, k)


def handle_post(
    target: str, body: bytes, parse: Parser, content: Content, k: int = DEFAULT_TOP_K
) -> Tuple[int, Dict[str, Any]]:
    """Handles ``POST /lookup`` with a JSON body ``{"q": "..."}``.

    Args:
        target: The request target (path and query string).
        body: The raw request body.
        parse: Sends a question to Rasa; raises :class:`RasaUnavailable`.
        content: The loaded content file.
        k: How many topics to return at most.

    Returns:
        The HTTP status and the JSON body.
    """
    if urlsplit(target).path.rstrip("/") != "/lookup":
        return 404, {"error": "Onbekend pad. Gebruik POST /lookup."}
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return 400, {"error": 'Ongeldige JSON. Stuur bijvoorbeeld {"q": "je vraag"}.'}
    if not isinstance(data, dict):
        return 400, {"error": 'Stuur een JSON-object, bijvoorbeeld {"q": "je vraag"}.'}
    return answer_query(data.get("q"), parse, content, k)


class LookupServer(ThreadingHTTPServer):
    """HTTP server that holds the content and the Rasa parser for its handler."""

    daemon_threads = True

    def __init__(
        self,
        address: Tuple[str, int],
        content: Content,
        parse: Parser,
        k: int = DEFAULT_TOP_K,
        quiet: bool = False,
    ) -> None:
        """Binds the server.

        Args:
            address: ``(host, port)``; port 0 picks a free port.
            content: The loaded content file.
            parse: Sends a question to Rasa; raises :class:`RasaUnavailable`.
            k: How many topics to return at most.
            quiet: Whether to suppress the request log on stderr.
        """
        super().__init__(address, LookupHandler)
        self.content = content
        self.parse = parse
        self.k = k
        self.quiet = quiet


class LookupHandler(BaseHTTPRequestHandler):
    """Serves ``/lookup``; the logic lives in :func:`handle_get`/:func:`handle_post`."""

    server: LookupServer
    server_version = "FaqLookup/1.0"

    def do_GET(self) -> None:
        """Answers ``GET /lookup?q=...``."""
        server = self.server
        self._send_json(*handle_get(self.path, server.parse, server.content, server.k))

    def do_POST(self) -> None:
        """Answers ``POST /lookup``."""
        server = self.server
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send_json(400, {"error": "Ongeldige Content-Length."})
            return
        if length > MAX_BODY_BYTES:
            self.close_connection = True
            self._send_json(413, {"error": "Het verzoek is te groot."})
            return
        body = self.rfile.read(length) if length else b""
        self._send_json(
            *handle_post(self.path, body, server.parse, server.content, server.k)
        )

    def _send_json(self, status: int, payload: Dict[str, Any]) -> None:
        """Sends a JSON response in UTF-8."""
        data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.send_header("X-Content-Type-Options", "nosniff")
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: Any = "-", size: Any = "-") -> None:
        """Logs method, path and status, but never the customer's question."""
        if not self.server.quiet:
            path = urlsplit(self.path).path
            self.log_message("%s %s %s", self.command, path, str(code))

    def log_message(self, format: str, *args: Any) -> None:
        """Writes a log line to stderr unless the server is quiet."""
        if not self.server.quiet:
            super().log_message(format, *args)


def make_server(
    port: int = DEFAULT_PORT,
    rasa_url: str = DEFAULT_RASA_URL,
    content: Optional[Content] = None,
    k: int = DEFAULT_TOP_K,
    quiet: bool = False,
) -> LookupServer:
    """Creates the lookup server on 127.0.0.1 (call ``serve_forever`` to run it).

    Args:
        port: The port; 0 picks a free one (see ``server.server_address``).
        rasa_url: Base URL of the Rasa server.
        content: The content; loaded from the configured file when None.
        k: How many topics to return at most.
        quiet: Whether to suppress the request log.

    Returns:
        The bound server.
    """
    return LookupServer(
        ("127.0.0.1", port),
        content or load_content(),
        lambda text: rasa_parse(text, rasa_url),
        k=k,
        quiet=quiet,
    )


def serve(port: int, rasa_url: str, content: Content, k: int) -> int:
    """Runs the lookup server until Ctrl+C.

    Args:
        port: The port on 127.0.0.1.
        rasa_url: Base URL of the Rasa server.
        content: The loaded content file.
        k: How many topics to return at most.

    Returns:
        The exit code.
    """
    try:
        server = make_server(port, rasa_url, content, k)
    except OSError as error:
        print(
            f"Kan de lookup-server niet starten op 127.0.0.1:{port}: {error.strerror}",
            file=sys.stderr,
        )
        return 1
    host, bound_port = server.server_address[:2]
    print(
        f"Lookup-server draait op http://{host}:{bound_port}/lookup?q=... "
        f"(Rasa: {rasa_url}). Stoppen: Ctrl+C",
        flush=True,
    )
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs a lookup or the lookup server from the command line.

    Args:
        argv: The arguments without the program name; defaults to ``sys.argv``.

    Returns:
        The exit code: 0 on success, 1 when the content file is broken, 2 on
        invalid input or when the Rasa server cannot be reached.
    """
    parser = argparse.ArgumentParser(
        description="Zoek de best passende onderwerpen bij een vraag van een klant."
    )
    parser.add_argument("vraag", nargs="?", help="de vraag van de klant")
    parser.add_argument(
        "--url",
        "--rasa-url",
        dest="rasa_url",
        default=DEFAULT_RASA_URL,
        help=f"Rasa-server met --enable-api (standaard: {DEFAULT_RASA_URL})",
    )
    parser.add_argument("--json", action="store_true", help="uitvoer als JSON")
    parser.add_argument(
        "-k",
        "--top",
        type=int,
        default=DEFAULT_TOP_K,
        help=f"aantal onderwerpen (standaard: {DEFAULT_TOP_K})",
    )
    parser.add_argument(
        "--serve", action="store_true", help="start de HTTP-server op 127.0.0.1"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"poort voor --serve (standaard: {DEFAULT_PORT})",
    )
    args = parser.parse_args(argv)
    if args.top < 1:
        parser.error("-k/--top moet minstens 1 zijn")
    if not args.serve and args.vraag is None:
        parser.error("geef een vraag mee, of gebruik --serve")

    try:
        content = load_content()
    except ContentError as error:
        print(error, file=sys.stderr)
        return 1
    if args.serve:
        return serve(args.port, args.rasa_url, content, args.top)

    text, problem = validate_query(args.vraag)
    if problem is not None or text is None:
        print((problem or (2, "Ongeldige vraag."))[1], file=sys.stderr)
        return 2
    try:
        parse_result = rasa_parse(text, args.rasa_url)
    except RasaUnavailable as error:
        print(error, file=sys.stderr)
        return 2
    topics = lookup(parse_result, content, args.top)
    if args.json:
        print(
            json.dumps({"query": text, "topics": topics}, ensure_ascii=False, indent=2)
        )
    else:
        print(format_text(text, topics))
    return 0


if __name__ == "__main__":
    sys.exit(main())
