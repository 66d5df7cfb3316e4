"""Personal data out of logs and out of everything staff see.

Two tools:

- :func:`mask_id` masks conversation ids for logs. WhatsApp conversation ids
  are phone numbers, and REST/socket.io ids are bearer secrets, so no log line
  holds one whole. Message texts are never logged at all.
- :func:`deidentify` replaces personal data in a visitor's message text with
  placeholders (``[PERSOON-1]``, ``[TELEFOONNUMMER-1]``, ``[EMAILADRES-1]``,
  ``[LOCATIE-1]``, ``[DATUM-1]``, ``[BSN-1]``, ``[ID-1]``, ``[LEEFTIJD-1]``)
  before the text leaves the tracker store: insights, the review queue and its
  exports, and the handoff transcript all call it.

De-identification uses `deduce <https://github.com/vmenger/deduce>`_, the
rule-based de-identifier made for Dutch medical text (UMC Utrecht), pinned at
3.0.3: later releases need ``regex>=2024.11``, which Rasa 3.6 forbids
(``regex<2022.11``), and 3.0.4 ships without its base configuration
(vmenger/deduce#151). Two of deduce's lookup lists are left out: the ~200,000
Dutch street names and the healthcare institutions take ~1 GB of memory and
17 s to load in every process, against ~80 MB and under a second without them.
Streets are still found by deduce's own street-name pattern (a word ending in
``straat``, ``laan``, ``weg`` …) followed by a house number, and by the
lower-case variant added here. The other additions cover what visitors type
and deduce's clinical-letter rules miss: ``+31 6 …`` and Belgian numbers,
e-mail addresses on any domain, lower-case postcodes, BSNs written with
spaces or dots, Belgian national register numbers, dates without a year, and
names after "mijn naam is" / "ik heet" / a greeting.

The trimmed lookup lists and deduce's cache of them are built once (about 5 s)
into ``FAQ_DEIDENTIFY_DIR`` (default ``var/deduce-<version>``).
"""

from __future__ import annotations

import importlib.metadata
import logging
import os
import re
import shutil
import tempfile
import threading
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Text

from faq.settings import PROJECT_DIR, env

logger = logging.getLogger(__name__)

_PHONE_LIKE = re.compile(r"\+?\d[\d\s-]{5,}")


def mask_id(conversation_id: Text) -> Text:
    """Returns a conversation id fit for logs.

    Phone numbers keep only their last 4 digits; other ids keep their channel
    prefix and 4 characters, enough to follow one conversation in a log.

    Examples:
        ``whatsapp:+31612345678`` -> ``whatsapp:…5678``;
        ``rest:Zx81kq…`` -> ``rest:Zx81…``.
    """
    channel, _, rest = conversation_id.rpartition(":")
    prefix = f"{channel}:" if channel else ""
    if _PHONE_LIKE.search(conversation_id):
        return f"{prefix}…{conversation_id[-4:]}"
    return f"{prefix}{rest[:4]}…"


#: A phone number in free text: 8 or more digits, optionally with + and spaces.
_PHONE_IN_TEXT = re.compile(r"(?<!\w)\+?\d(?:[ -]?\d){7,}")


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _mask_match(match: "re.Match[str]") -> Text:
    found = match.group()
    if _DATE.fullmatch(found):
        return found
    return "…" + re.sub(r"\D", "", found)[-4:]


def mask_phone_numbers(text: Text) -> Text:
    """Replaces every phone number in a text by ``…`` and its last 4 digits."""
    return _PHONE_IN_TEXT.sub(_mask_match, text)


def install_log_masking() -> None:
    """Masks phone numbers in every log message of this process, Rasa's included.

    Our own log lines already mask conversation ids; Rasa's (at DEBUG level,
    e.g. "Could not find tracker for conversation ID 'whatsapp:+316…'") do
    not. A log-record factory (the stdlib hook that runs for every record,
    whatever handlers Rasa installs later) masks the formatted message.
    """
    previous = logging.getLogRecordFactory()
    if getattr(previous, "faq_masking", False):
        return

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        plain = record.getMessage

        def get_message() -> str:
            return mask_phone_numbers(plain())

        record.getMessage = get_message  # type: ignore[method-assign]
        return record

    factory.faq_masking = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(factory)


# --- de-identification ---------------------------------------------------------

#: deduce lookup lists left out (memory); see the module docstring.
HEAVY_LISTS = ("locations/lst_street", "institutions/lst_healthcare_institution")

_STREET_SUFFIXES = (
    "straat|laan|weg|plein|gracht|kade|dijk|singel|steeg|hof|pad|dreef|park|markt"
    "|baan|wal|plantsoen|boulevard|steenweg|lei|dam"
)
_MONTHS = (
    "januari|februari|maart|april|mei|juni|juli|augustus|september|oktober"
    "|november|december|jan|feb|mrt|apr|jun|jul|aug|sept|sep|okt|nov|dec"
)
_INTERFIX = r"(?:van der|van den|van de|van|de|der|den|ten|ter|te|vd)"
#: Words after "groetjes" that are not a name ("groetjes uit Gent").
_NOT_A_NAME = r"(?!(?:uit|van|en|aan|voor|allemaal|alvast|terug)\b)"
#: Words that do not continue a name ("ik heet pieter en ik ...").
_NOT_A_SURNAME = (
    r"(?!(?:en|ik|ben|heb|wil|mag|kan|is|maar|want|uit|met|of|de|het|een|die|dat"
    r"|hoe|wat|waarom|wanneer|welke|graag|heeft|had|zou|moet|zit|woon|bij|in|op"
    r"|te|om|als|dus|ook|nog|hier|hoor|vraag|vraagje)\b)"
)
#: Dose units and short Dutch words after four digits: not a postcode.
_UNITS = "mg|ie|iu|gr|ml|kg|ug|µg|mcg|jr"
_NOT_A_UNIT = r"(?!(?i:" + _UNITS + r")\b)"
_NOT_A_UNIT_OR_WORD = (
    r"(?!(?:" + _UNITS + r"|en|in|is|op|te|of|om|al|nu|ja|na|zo|ik|je|ze|we|er"
    r"|de|af|uw|bv|pc)\b)"
)
#: Words that end like a street but are not one ("onderweg 2 uur").
_NOT_A_STREET = r"(?!(?:onderweg|halfweg|zijweg)\b)"


def _regexp(pattern: Text, tag: Text, group: Text, priority: int = 0) -> Dict:
    """A docdeid regular-expression annotator in deduce's configuration format."""
    return {
        "annotator_type": "docdeid.process.RegexpAnnotator",
        "group": group,
        "args": {
            "regexp_pattern": pattern,
            "capturing_group": 1,
            "tag": tag,
            "priority": priority,
        },
    }


#: Annotators added to deduce's configuration: what chat visitors type.
EXTRA_ANNOTATORS: Dict[Text, Dict[Text, Any]] = {
    "faq_phone_international": _regexp(
        r"(?<![\w+])((?:\+|00)[1-9]\d{1,2}[\s-]?(?:\(0\)[\s-]?)?\d(?:[\s.-]?\d){6,10})"
        r"(?!\d)",
        "telefoonnummer",
        "phone_numbers",
        priority=2,
    ),
    "faq_phone_belgian_mobile": _regexp(
        r"(?<!\d)(04\d{2}(?:[\s/.-]?\d{2}){3})(?!\d)",
        "telefoonnummer",
        "phone_numbers",
        priority=2,
    ),
    "faq_email": _regexp(
        r"(?<![\w.+-])([\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,})(?![\w-])",
        "emailadres",
        "email_addresses",
        priority=3,
    ),
    "faq_street_lowercase": _regexp(
        r"(?i)(?<![\w-])"
        + _NOT_A_STREET
        + r"([a-zà-ÿ'-]+(?:"
        + _STREET_SUFFIXES
        + r")\s+\d{1,4}"
        r"(?:\s?[a-z](?![a-z]))?)(?![\w])",
        "locatie",
        "locations",
    ),
    # deduce's own postcode rule also takes "4000 IE" (a dose) for a postcode.
    "postal_code": _regexp(
        r"(?<![\w])([1-9]\d{3}(?:"
        + _NOT_A_UNIT
        + r"[A-Za-z]{2}| "
        + _NOT_A_UNIT
        + r"[A-Z]{2}))(?![\w])",
        "locatie",
        "locations",
    ),
    "faq_postcode_lowercase": _regexp(
        r"(?<![\w])([1-9]\d{3} ?" + _NOT_A_UNIT_OR_WORD + r"[a-z]{2})(?![\w])",
        "locatie",
        "locations",
    ),
    "faq_bsn_grouped": _regexp(
        r"(?<![\d.-])(\d{4}[ .]\d{2}[ .]\d{3}|\d{3}[ .-]\d{3}[ .-]\d{3}"
        r"|\d{2}\.?\d{2}\.?\d{2}-\d{3}\.?\d{2})(?![\d])",
        "bsn",
        "identifiers",
        priority=50,
    ),
    "faq_date_without_year": _regexp(
        r"(?i)(?<![\w])((?:[1-9]|0[1-9]|[12]\d|3[01])\s*(?:" + _MONTHS + r")\.?)"
        r"(?![\w])",
        "datum",
        "dates",
    ),
    "faq_name_introduced": _regexp(
        r"(?i:mijn naam is|ik heet|naam:|groetjes|groeten|groet|mvg|gr\.)[\s,:]+"
        + _NOT_A_NAME
        + r"([A-Za-zà-ÿ][a-zà-ÿ'-]+(?:\s+(?i:"
        + _INTERFIX
        + r")\s+[A-Za-zà-ÿ][a-zà-ÿ'-]+|\s+"
        + _NOT_A_SURNAME
        + r"[A-Za-zà-ÿ][a-zà-ÿ'-]+)?)",
        "persoon",
        "names",
        priority=1,
    ),
}

#: deduce's cache of its lookup structures (inside ``<folder>/cache/``).
CACHE_FILE = "lookup_structs.pickle"

_lock = threading.Lock()
_deidentifier: Optional[Any] = None


def deidentify_dir() -> Path:
    """Where the trimmed lookup lists and deduce's cache of them live."""
    version = importlib.metadata.version("deduce")
    default = PROJECT_DIR / "var" / f"deduce-{version}"
    return Path(env("FAQ_DEIDENTIFY_DIR", str(default)) or default)


def _import_deduce() -> Any:
    """Imports deduce without letting it configure the root logger.

    deduce 3.0 calls ``logging.basicConfig(level=DEBUG)`` on import, which would
    send every library's debug lines to stdout in a process that has not set
    up logging yet. With a handler on the root logger that call does nothing.
    """
    root = logging.getLogger()
    guard = logging.NullHandler()
    root.addHandler(guard)
    try:
        import deduce
    finally:
        root.removeHandler(guard)
    return deduce


def _prepare_lookup_dir(deduce: Any, target: Path) -> None:
    """Builds deduce's lookup lists, the heavy ones emptied, and their cache.

    Built in a temporary folder next to ``target`` and renamed into place when
    complete, so two processes starting at once never read a half-written
    cache.
    """
    if (target / "cache" / CACHE_FILE).is_file():
        return
    source = Path(deduce.__file__).parent / "data" / "lookup" / "src"
    target.parent.mkdir(parents=True, exist_ok=True)
    building = Path(tempfile.mkdtemp(prefix=".deduce-", dir=target.parent))
    try:
        heavy = {name.rsplit("/", 1)[1] for name in HEAVY_LISTS}
        shutil.copytree(
            source,
            building / "src",
            ignore=lambda _dir, names: [
                n for n in names if n in heavy or n == "__pycache__"
            ],
        )
        for name in HEAVY_LISTS:
            (building / "src" / name).mkdir(parents=True, exist_ok=True)
            (building / "src" / name / "items.txt").write_text("", encoding="utf-8")
        _new_deidentifier(deduce, building)  # builds and writes the cache
        if target.exists() and not (target / "cache" / CACHE_FILE).is_file():
            shutil.rmtree(target, ignore_errors=True)  # left half-built before
        os.rename(building, target)
    except OSError:  # another process was first
        pass
    finally:
        shutil.rmtree(building, ignore_errors=True)


def _new_deidentifier(deduce: Any, folder: Path) -> Any:
    return deduce.Deduce(
        config={"annotators": EXTRA_ANNOTATORS},
        lookup_data_path=folder,
        cache_path=folder,
    )


def _load() -> Any:
    """Builds deduce once per process (thread-safe)."""
    global _deidentifier
    with _lock:
        if _deidentifier is None:
            deduce = _import_deduce()
            folder = deidentify_dir()
            _prepare_lookup_dir(deduce, folder)
            _deidentifier = _new_deidentifier(deduce, folder)
        return _deidentifier


def warm_up() -> None:
    """Loads the de-identifier now (about a second; 5 s the very first time).

    For a server that starts it in the background: a failure is logged, and
    :func:`deidentify` raises it again when called.
    """
    try:
        _load()
    except Exception:
        logger.exception("de-identificatie kon niet worden geladen")


def deidentify(text: Optional[Text]) -> Text:
    """Returns the text with names, numbers, addresses and dates as placeholders.

    Args:
        text: A message a visitor typed (``None`` counts as empty).

    Returns:
        The de-identified text, e.g. ``"ik ben [PERSOON-1], bel [TELEFOONNUMMER-1]"``.
    """
    if not text or not text.strip():
        return text or ""
    return _load().deidentify(text).deidentified_text


def deidentify_all(texts: Iterable[Optional[Text]]) -> List[Text]:
    """De-identifies several texts (each on its own: placeholders restart at 1)."""
    return [deidentify(text) for text in texts]


#: A placeholder of :func:`deidentify`, e.g. ``[PERSOON-1]``.
PLACEHOLDER = re.compile(r"\[([A-Z]+)(?:-\d+)?\]")
