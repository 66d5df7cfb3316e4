"""Fidelity rules: every answer sentence rests on quoted article sentences.

Three things live here, used by the content loader (:mod:`faq.content`), the
tests and the review page (``make grounding``, :mod:`staff.grounding`):

- :class:`Article`: the article text (``content/artikel.txt``) and the check
  that a ``basis`` quote occurs in it as whole sentences or whole table cells
  (whitespace normalised), so a quote cannot drop the condition or hedge of the
  sentence it comes from.
- :func:`amount_problem`: the amounts rule. A supplement amount (mg, IE, µg,
  "tabletten per dag", …) is never allowed. Any other amount (e.g. the article's
  "15 tot 30 minuten" of sun a day) only as the article's general statement:
  quoted in the sentence's basis, attributed to the article in the sentence,
  and not tailored to the user (no "jij", "jou", "jouw", "jouw situatie").
- :func:`coverage`: how many content words of an answer sentence occur in its
  basis, with lemmas from the project's Dutch spaCy pipeline
  (``scripts/spacy_pipeline.py``) counting as matches. spaCy is imported only
  when coverage is asked for; the action server never loads it.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, FrozenSet, List, Optional, Sequence, Set, Text, Tuple

from faq.settings import PROJECT_DIR

#: Minimum share of an answer sentence's content words found in its basis.
#: Chosen on the reviewed content (``make grounding`` prints the distribution):
#: faithful paraphrases score 0.8 and up, a sentence that adds a claim scores
#: lower. Numbers must always be covered, whatever the share.
COVERAGE_THRESHOLD = 0.8

#: Words that attribute a statement instead of making one ("volgens het
#: artikel", "het artikel noemt"). They need no basis.
ATTRIBUTION_WORDS: FrozenSet[Text] = frozenset(
    {
        "artikel",
        "volgens",
        "noemt",
        "noem",
        "noemen",
        "zegt",
        "zeggen",
        "bronnenlijst",
        "raadt",
        "raden",
    }
)

#: Function words that spaCy's Dutch stop list misses; they carry no claim.
FUNCTION_WORDS: FrozenSet[Text] = frozenset({"ene", "kun", "kunt", "zichzelf"})

#: Inflection endings: "gebruiken" is covered by "gebruik" in the basis.
_ENDINGS = ("en", "e", "s", "t", "n", "de", "te")

# ------------------------------------------------------------------ article


def normalise(text: Text) -> Text:
    """Collapses every run of whitespace to one space and strips the ends."""
    return re.sub(r"\s+", " ", text).strip()


#: Where a unit of an article line ends: after sentence punctuation.
_SENTENCE_END = re.compile(r"[.!?:;](?= )")
#: A URL followed by more text on the same line (source 15 of the article).
_URL = re.compile(r"https?://\S+(?= )")
#: Table cell separators in an article line such as ``| a | b |``.
_CELL_SEPARATOR = re.compile(r" ?\| ?")


@dataclass(frozen=True)
class ArticleLine:
    """One non-empty line of the article and where its units start and end."""

    text: Text
    starts: FrozenSet[int]
    ends: FrozenSet[int]


def _line_units(text: Text) -> ArticleLine:
    """Finds the unit boundaries of one normalised article line.

    A unit is a sentence (ending in ``. ! ? : ;``), a list item after ``- `` or
    a table cell. A quote must start at a unit start and end at a unit end.
    """
    starts: Set[int] = {0}
    ends: Set[int] = {len(text)}
    if text.startswith("- "):
        starts.add(2)
    for match in _SENTENCE_END.finditer(text):
        ends.add(match.end())
        starts.add(match.end() + 1)
    for match in _URL.finditer(text):  # "15. https://… De website van …"
        ends.add(match.end())
        starts.add(match.end() + 1)
    if text.startswith("|"):
        for match in _CELL_SEPARATOR.finditer(text):
            ends.add(match.start())
            starts.add(match.end())
    # A quote may leave out the sentence's final punctuation mark.
    ends |= {end - 1 for end in ends if end and text[end - 1] in ".!?:;"}
    return ArticleLine(text=text, starts=frozenset(starts), ends=frozenset(ends))


@dataclass(frozen=True)
class Article:
    """The article text, split into lines with their sentence boundaries."""

    path: Path
    text: Text
    lines: Tuple[ArticleLine, ...] = field(repr=False)

    @classmethod
    def from_text(cls, text: Text, path: Path) -> "Article":
        """Builds the article from its raw text."""
        lines = tuple(
            _line_units(normalise(line)) for line in text.splitlines() if line.strip()
        )
        return cls(path=path, text=text, lines=lines)

    def quote_problem(self, quote: Text) -> Optional[Text]:
        """Returns why ``quote`` is not a valid basis, or None when it is.

        Args:
            quote: The quoted text (whitespace is normalised first).

        Returns:
            None when the quote occurs in one article line and starts and ends
            on unit boundaries (whole sentences, list items or table cells);
            otherwise a short Dutch description of the problem.
        """
        wanted = normalise(quote)
        if not wanted:
            return "citaat is leeg"
        found = False
        for line in self.lines:
            index = line.text.find(wanted)
            while index >= 0:
                found = True
                if index in line.starts and index + len(wanted) in line.ends:
                    return None
                index = line.text.find(wanted, index + 1)
        if found:
            return (
                "citaat is geen hele zin of tabelcel van het artikel "
                "(het begint of eindigt midden in een zin)"
            )
        return "citaat komt niet (letterlijk) voor in het artikel"


# ------------------------------------------------------------------ amounts

_NUMBER = (
    r"(?:\d+(?:[.,]\d+)?|een|één|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|"
    r"twintig|dertig|veertig|vijftig|honderd|duizend|half|halve|anderhalf)"
)
_RANGE = rf"{_NUMBER}(?:\s*(?:-|–|tot|à|a|of)\s*{_NUMBER})?"
_DOSE_UNIT = (
    r"(?:mg|milligram|µg|μg|ug|mcg|microgram|ie|i\.e\.|iu|"
    r"internationale\s+eenheden|eenheden)"
)
_DOSE_FORM = (
    r"(?:tablet(?:ten)?|capsules?|pil(?:len)?|druppels?|softgels?|zakjes?|"
    r"schepjes?|maatschep(?:pen)?|doses|dosis)"
)

#: A supplement amount: never allowed in an answer, attributed or not.
SUPPLEMENT_AMOUNT = re.compile(
    rf"(?<![\w/.-]){_RANGE}\s*{_DOSE_UNIT}(?![\w])"
    rf"|\b{_DOSE_FORM}\s+per\s+(?:dag|week|keer)\b"
    rf"|\b{_NUMBER}\s+{_DOSE_FORM}\b",
    re.IGNORECASE,
)

#: Any other amount (time, weight, volume, portions, frequency, share).
GENERAL_AMOUNT = re.compile(
    rf"(?<![\w/.-]){_RANGE}\s*(?:seconden|minuten|minuut|kwartier|uur|uren|"
    r"dagen|weken|week|maanden|jaren|gram|g|kilo|kg|ml|milliliter|liter|"
    r"porties?|eieren|keer|procent|%)(?!\w)",
    re.IGNORECASE,
)

#: Words that tailor a statement to the user instead of stating a general fact.
TAILORED = re.compile(
    r"\b(?:jij|jou|jouw|jullie)\b|\bin je (?:eigen )?(?:situatie|geval)\b"
    r"|\bvoor je (?:gewicht|leeftijd|situatie)\b|\bbij je (?:gewicht|leeftijd)\b",
    re.IGNORECASE,
)

#: An attribution of a statement to the article.
ATTRIBUTED = re.compile(r"\bartikel\b", re.IGNORECASE)


def amount_problem(text: Text, basis: Sequence[Text] = ()) -> Optional[Text]:
    """Applies the amounts rule to one answer sentence.

    Args:
        text: The answer sentence (or any other text shown to users).
        basis: The article quotes the sentence rests on; empty for texts
            without a basis, where any amount is refused.

    Returns:
        None when the text obeys the rule, else a short Dutch reason.
    """
    dose = SUPPLEMENT_AMOUNT.search(text)
    if dose:
        return (
            f"noemt een hoeveelheid voor een supplement ('{dose.group(0)}'): "
            "dat mag nooit, ook niet uit het artikel"
        )
    amount = GENERAL_AMOUNT.search(text)
    if not amount:
        return None
    phrase = normalise(amount.group(0)).lower()
    if TAILORED.search(text):
        return (
            f"noemt een hoeveelheid ('{amount.group(0)}') voor de gebruiker zelf; "
            "alleen de algemene uitspraak van het artikel mag"
        )
    if not any(phrase in normalise(quote).lower() for quote in basis):
        return (
            f"noemt een hoeveelheid ('{amount.group(0)}') die niet in de basis "
            "(het artikel) staat"
        )
    if not ATTRIBUTED.search(text):
        return (
            f"noemt een hoeveelheid ('{amount.group(0)}') zonder te zeggen dat "
            "het artikel dat zegt (bijvoorbeeld 'volgens het artikel')"
        )
    return None


# ----------------------------------------------------------------- coverage


def _spacy_pipeline_module() -> Any:
    """Imports ``scripts/spacy_pipeline.py``: the project's choice of pipeline."""
    path = PROJECT_DIR / "scripts" / "spacy_pipeline.py"
    spec = importlib.util.spec_from_file_location("faq_spacy_pipeline", path)
    if spec is None or spec.loader is None:  # pragma: no cover - file is in git
        raise RuntimeError(f"kan {path} niet laden")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@functools.lru_cache(maxsize=1)
def nlp() -> Any:
    """Returns the project's Dutch spaCy pipeline (loaded once per process).

    The same pipeline Rasa trains with: the client's one when installed, else
    the project's own lookup-lemmatizer pipeline, built on first use.
    """
    import spacy

    chooser = _spacy_pipeline_module()
    if (
        not chooser.client_model_installed()
        and not (chooser.OWN_PATH / "meta.json").exists()
    ):
        chooser.build_own_pipeline()
    name = chooser.which()
    location = PROJECT_DIR / name
    return spacy.load(str(location) if location.exists() else name)


def pipeline_name() -> Text:
    """Returns the name of the spaCy pipeline coverage uses (for the report)."""
    meta = nlp().meta
    return f"{meta.get('lang', 'nl')}_{meta.get('name', '?')}"


@dataclass(frozen=True)
class Word:
    """One content word of an answer sentence and whether the basis covers it."""

    text: Text
    covered: bool
    number: bool
    start: int = 0


@dataclass(frozen=True)
class Coverage:
    """How well a basis covers an answer sentence."""

    words: Tuple[Word, ...]

    @property
    def share(self) -> float:
        """Covered content words / content words (1.0 when there are none)."""
        if not self.words:
            return 1.0
        return sum(w.covered for w in self.words) / len(self.words)

    @property
    def uncovered(self) -> List[Text]:
        """The content words the basis does not cover."""
        return [w.text for w in self.words if not w.covered]

    @property
    def numbers_covered(self) -> bool:
        """Whether every number in the sentence occurs in the basis."""
        return all(w.covered for w in self.words if w.number)

    def weak(self, threshold: float = COVERAGE_THRESHOLD) -> bool:
        """Whether the sentence is below the threshold or has an uncovered number."""
        return self.share < threshold or not self.numbers_covered


_SUBSCRIPTS = str.maketrans("₀₁₂₃₄₅₆₇₈₉", "0123456789")


def _clean(text: Text) -> Text:
    """Lower-cases a token, writes D₃ as d3 and strips punctuation at its ends."""
    return text.translate(_SUBSCRIPTS).lower().strip(".,;:!?()'\"‘’“”-–")


def _vocabulary(doc: Any) -> Set[Text]:
    """Forms and lemmas of every token in a parsed basis, and their parts."""
    words: Set[Text] = set()
    for token in doc:
        for value in (_clean(token.text), _clean(token.lemma_)):
            if value:
                words.add(value)
                words.update(part for part in re.split(r"[-–/]", value) if part)
    return words


def _is_compound_of(word: Text, vocabulary: Set[Text]) -> bool:
    """Whether ``word`` is a Dutch compound of basis words (``magnesiumtekort``).

    Parts must be at least three letters; a linking ``s`` or ``e`` between
    parts is allowed (``vitamine-inname``, ``gezondheidsrisico``).
    """

    @functools.lru_cache(maxsize=None)
    def split(rest: Text, parts: int) -> bool:
        if not rest:
            return parts >= 2
        for end in range(3, len(rest) + 1):
            head = rest[:end]
            if head in vocabulary:
                if split(rest[end:], parts + 1):
                    return True
                if rest[end : end + 1] in ("s", "e") and split(
                    rest[end + 1 :], parts + 1
                ):
                    return True
        return False

    return split(word.replace("-", ""), 0)


def _covers(word: Text, lemma: Text, vocabulary: Set[Text]) -> bool:
    """Whether a content word (form or lemma) is covered by the basis words."""
    return any(_covers_form(form, vocabulary) for form in {word, lemma} if form)


def _covers_form(word: Text, vocabulary: Set[Text]) -> bool:
    """Whether one form of a content word is covered by the basis words."""
    if word in vocabulary:
        return True
    parts = [p for p in re.split(r"[-–/]", word) if p]
    if len(parts) > 1 and all(p in vocabulary for p in parts):
        return True
    if any(
        word.endswith(end)
        and len(word) - len(end) >= 4
        and word[: -len(end)] in vocabulary
        for end in _ENDINGS
    ):
        return True
    if len(word) >= 4 and any(
        len(v) > len(word) and (v.startswith(word) or v.endswith(word))
        for v in vocabulary
    ):
        return True  # a part of a basis compound: "tekort" in "magnesiumtekort"
    return _is_compound_of(word, vocabulary)


def coverage(sentence: Text, basis: Sequence[Text]) -> Coverage:
    """Measures how well ``basis`` covers the content words of ``sentence``.

    Content words are tokens with letters or digits that are not spaCy stop
    words, not attribution words (:data:`ATTRIBUTION_WORDS`) and not a list
    dash. A word is covered when its form or lemma occurs in the basis (form or
    lemma), when it is a compound of basis words, or a part of one.

    Args:
        sentence: The answer sentence.
        basis: The article quotes it rests on.

    Returns:
        The per-word result.
    """
    pipeline = nlp()
    vocabulary = _vocabulary(pipeline(" ".join(basis)))
    words: List[Word] = []
    for token in pipeline(sentence):
        word = _clean(token.text)
        lemma = _clean(token.lemma_)
        if not word or not re.search(r"\w", word):
            continue
        number = bool(re.fullmatch(r"\d+(?:[.,]\d+)?", word))
        if not number and (
            token.is_stop
            or word in FUNCTION_WORDS
            or word in ATTRIBUTION_WORDS
            or lemma in ATTRIBUTION_WORDS
        ):
            continue
        if not number and len(word) < 2:
            continue
        words.append(
            Word(
                text=token.text,
                covered=_covers(word, lemma, vocabulary),
                number=number,
                start=token.idx,
            )
        )
    return Coverage(words=tuple(words))
