"""Text handling before intent classification: noise removal and sentences.

Visitors paste things around their question: HTML or markdown, a role prefix
("Klant:", "User:"), an instruction meant for a chatbot ("vergeet je
regels"), a signature, emoji. :func:`clean` removes that noise so the
classifier sees the question itself. It removes only the noise, never the
request: a dose question behind an instruction stays a dose question (and is
refused as personal advice).

:func:`sentences` splits a message into sentences and says which ones are
questions, so a long message ("story, then the question") can be classified
with the question weighing most (:mod:`server.nlu.model`).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from typing import List, Tuple

#: HTML/XML tags, HTML comments and whole <script>/<style> elements.
_HTML_BLOCKS = re.compile(
    r"<(script|style)\b[^>]*>.*?</\1\s*>|<!--.*?-->", re.IGNORECASE | re.DOTALL
)
_HTML_TAG = re.compile(r"</?[a-zA-Z][a-zA-Z0-9:-]*(?:\s[^<>]*)?/?>")
#: Markdown: links keep their text, images and code fences go.
_MD_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)")
_MD_LINK = re.compile(r"\[([^\]]+)\]\((?:https?://|www\.)[^)]*\)")
_CODE_FENCE = re.compile(r"```[a-zA-Z]*")
_MD_MARKS = re.compile(r"(\*\*|__|~~|`)|^\s{0,3}(?:#{1,6}|>+|[-*+]\s)\s*", re.MULTILINE)
_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
_EMAIL = re.compile(r"\b[\w.+-]+@[\w-]+\.[\w.-]+\b")
#: Chat-log decoration: timestamps such as "[10:32]" or "10:32 -".
_TIMESTAMP = re.compile(
    r"\[\d{1,2}:\d{2}(?::\d{2})?\]\s*|^\s*\d{1,2}:\d{2}(?::\d{2})?\s*[-–:]\s*",
    re.MULTILINE,
)
#: Role or speaker prefixes at the start of a line ("Klant:", "User:", "Q:").
_ROLE_PREFIX = re.compile(
    r"^\s*(?:\[(?:inst|/inst|user|system|assistant)\]|<\|?\w+\|?>)?\s*"
    r"(?:user|gebruiker|klant|bezoeker|vraag|question|q|human|mens|ik|me|"
    r"system|systeem|assistant|assistent|bot|chatbot|ai|prompt|input|bericht|"
    r"message|onderwerp|subject|re|fw|fwd)\s*(?:\(\w+\))?\s*[:>]+\s*",
    re.IGNORECASE | re.MULTILINE,
)
_BRACKET_TAGS = re.compile(r"\[/?(?:inst|sys|user|system|assistant)\]", re.IGNORECASE)
#: Instructions aimed at a chatbot, pasted before or after the question. Only
#: the instruction itself is removed (up to a clause boundary), never the rest.
#: The rest of a clause: up to punctuation or a joining word ("en", "and").
_CLAUSE_REST = r"[^.!?\n,;:]{0,50}?(?=[.!?\n,;:]|\s+(?:en|and|maar|but|dus|so)\b|$)"
_INSTRUCTION = re.compile(
    r"(?:"
    # "vergeet/negeer (al) je/alle (vorige) regels/instructies"
    r"\b(?:vergeet|negeer|ignore|forget|disregard|omzeil|skip)\b[^.!?\n,;:]{0,40}?"
    r"\b(?:regels|instructies|richtlijnen|opdrachten|beperkingen|prompt|"
    r"systeemprompt|rules|instructions|guidelines|restrictions|limits)\b"
    r"|"
    # "je bent nu (een) arts", "you are now a doctor", "doe alsof je ... bent"
    r"\b(?:je bent|jij bent|u bent|you are|you're)\s+(?:nu|vanaf nu|now|from now on)"
    r"\b" + _CLAUSE_REST + r"|\b(?:doe alsof|act as|pretend)\b" + _CLAUSE_REST + r"|"
    # "antwoord zonder disclaimer", "geen voorbehoud"
    r"\b(?:antwoord|answer|reageer|respond)\w*\s+(?:zonder|without)\b"
    + _CLAUSE_REST
    + r"|\b(?:zonder|without|geen|no)\s+(?:disclaimers?|voorbehoud|waarschuwingen|"
    r"warnings?|caveats?)\b"
    r"|\b(?:system ?prompt|jailbreak|developer mode|ontwikkelaarsmodus|dan mode)\b"
    r")(?:\s+(?:en|and|maar|but|dus|so)\b)?[\s,:;.!-]*",
    re.IGNORECASE,
)
#: Signatures and mail clutter at the end of a message.
_SIGNATURE = re.compile(
    r"(?:^|\n|\s)(?:verstuurd vanaf|verzonden vanaf|sent from)\s+(?:mijn|my)\b.*$",
    re.IGNORECASE | re.DOTALL,
)
_REPEATED_PUNCT = re.compile(r"([!?.,])\1+")
_SPACE_BEFORE_PUNCT = re.compile(r"\s+([?.!,;:])")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\s*\n\s*")

#: Words that open a question (Dutch, Flemish, English).
_QUESTION_START = re.compile(
    r"^(?:en\s+|maar\s+|dus\s+|oké?\s+|ok\s+|allee\s+|zeg\s+|nu\s+)?"
    r"(?:wat|wa|waarom|hoe|hoezo|welke?|wie|wanneer|waar|waarvoor|waardoor|"
    r"waaraan|waarin|waarmee|hoeveel|hoelang|kan|kun|kunt|kunnen|kunde|kunt|mag|"
    r"moet|moeten|moete|zou|zouden|is|zijn|ben|bent|heb|hebt|heeft|hebben|helpt|"
    r"werkt|klopt|geldt|maakt|doet|zit|zitten|krijg|verhoogt|leidt|speelt|"
    r"vertel|leg|geef|weet|weten|what|why|how|which|who|when|where|can|could|"
    r"should|is|are|do|does|will|would|tell|explain)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


def clean(text: str) -> str:
    """Removes markup, role prefixes, pasted instructions and other noise.

    Args:
        text: The visitor's message as typed or pasted.

    Returns:
        The message without the noise, whitespace normalised. A message that
        is only noise comes back empty. Button payloads (``/intent``) are
        returned unchanged.
    """
    if text.startswith("/"):
        return text
    value = unicodedata.normalize("NFKC", text)
    value = html.unescape(value)
    value = _HTML_BLOCKS.sub(" ", value)
    value = _HTML_TAG.sub(" ", value)
    value = _MD_IMAGE.sub(" ", value)
    value = _MD_LINK.sub(r"\1", value)
    value = _CODE_FENCE.sub(" ", value)
    value = _MD_MARKS.sub(" ", value)
    value = _URL.sub(" ", value)
    value = _EMAIL.sub(" ", value)
    value = _BRACKET_TAGS.sub(" ", value)
    value = _TIMESTAMP.sub(" ", value)
    value = _ROLE_PREFIX.sub("", value)
    value = _INSTRUCTION.sub(" ", value)
    value = _SIGNATURE.sub(" ", value)
    value = "".join(
        ch if unicodedata.category(ch)[0] != "S" or ch in "+%&" else " " for ch in value
    )
    value = _REPEATED_PUNCT.sub(r"\1", value)
    value = _SPACE_BEFORE_PUNCT.sub(r"\1", value)
    value = _SPACES.sub(" ", value)
    value = _BLANK_LINES.sub("\n", value).strip(" \n,;:-")
    return value


@dataclass(frozen=True)
class Sentence:
    """One sentence of a message and whether it asks something."""

    text: str
    question: bool


def is_question(sentence: str) -> bool:
    """Returns whether a sentence asks something (question mark or question word)."""
    stripped = sentence.strip()
    return stripped.endswith("?") or bool(_QUESTION_START.match(stripped))


def sentences(text: str) -> List[Sentence]:
    """Splits a message into sentences (at . ! ? and line breaks).

    Args:
        text: A cleaned message.

    Returns:
        The non-empty sentences, in order, each marked as question or not.
    """
    parts = [p.strip() for p in _SENTENCE_END.split(text)]
    return [Sentence(p, is_question(p)) for p in parts if re.search(r"\w", p)]


def split_story(text: str) -> Tuple[List[str], List[str]]:
    """Returns (question sentences, other sentences) of a message."""
    parts = sentences(text)
    return (
        [s.text for s in parts if s.question],
        [s.text for s in parts if not s.question],
    )


#: Units of a supplement amount.
_UNIT = r"(?:mg|milligram\w*|ie|iu|µg|ug|mcg|microgram\w*|druppel\w*|tablet\w*|"
_UNIT += r"capsule\w*|pil|pillen|pilletjes|eenheden|units?|kapsels?|scheppen)"
#: Explicit requests for an amount to take: always personal advice.
_DOSE_REQUEST = re.compile(
    r"\b(?:dosis|dosissen|dosering\w*|doseren|dose|doses|dosage)\b"
    rf"|\bhoe ?veel\s+{_UNIT}\b"
    rf"|\b(?:how many|how much)\b.{{0,40}}\b(?:{_UNIT}|take|give|should)\b"
    r"|\bhoe ?veel\b.{0,60}\b(?:moet|mag|kan|zou|moeten|mogen|kunnen|moete|moogt)\b"
    r".{0,40}\b(?:nemen|slikken|innemen|gebruiken|geven|suppleren|pakken|krijgen)\b"
    rf"|\d+(?:[.,]\d+)?\s*{_UNIT}\b.{{0,60}}(?:\?|te ?veel|genoeg|veilig|gevaarlijk"
    r"|verhogen|too much|safe)",
    re.IGNORECASE,
)


def asks_for_dose(text: str) -> bool:
    """Returns whether a message asks how much of something to take.

    The article gives no amounts and the assistant never does; such a
    question is personal advice whatever else the message says (also behind
    noise: use it on the cleaned text).
    """
    return bool(_DOSE_REQUEST.search(text))


#: The article's own nutrients (also misspelt and abbreviated).
_OWN_NUTRIENT = re.compile(
    r"\b(?:magne\w*|mg|vit(?:amine?|amin|\.)?\s*-?d\d?|vitd\d?|d3|d2|k2"
    r"|vit(?:amine?|amin|\.)?\s*-?k2?|calci\w*)\b",
    re.IGNORECASE,
)
#: Other nutrients and supplements, which the article does not cover.
_OTHER_NUTRIENT = re.compile(
    r"\b(?:vit(?:amine?|amin|\.)?\s*-?(?:a|b\d{0,2}|c|e|k1)|b\d{1,2}|ijzer\w*|zink"
    r"|jodium|selenium|kalium|natrium|koper|chroom|foliumzuur|omega[\s-]?\d*"
    r"|visolie|krillolie|creatine|collageen|melatonine|probiotica|ashwagandha"
    r"|biotine|q10|iron|zinc|iodine|folic)\b",
    re.IGNORECASE,
)


def names_only_other_nutrients(text: str) -> bool:
    """Returns whether a message is about another nutrient and not ours.

    "In welke producten zit vitamine B12?" differs from a vitamin D question
    by a few characters; the article covers magnesium, vitamin D and K2 only.
    """
    return bool(_OTHER_NUTRIENT.search(text)) and not _OWN_NUTRIENT.search(text)
