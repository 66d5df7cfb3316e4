"""Small helpers shared by the tests."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Dict, List, Optional

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
