"""Customer-service lookup: the best-matching content topics for a question.

Staff paste a customer's question; the Rasa server's NLU ranks the topics
(:mod:`server.channels.lookup` calls the agent in-process) and this module
turns that ranking into the top content topics with their short and long
answers and sources, all from the content file. ``python -m staff.lookup``
is the terminal client.
"""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple

from faq.content import Content

DEFAULT_TOP_K = 3
#: Longest question accepted, in characters (same limit as the chat channels).
MAX_QUERY_CHARS = 1000


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
        parse_result: An NLU parse result (``intent`` and
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
