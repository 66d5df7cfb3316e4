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

import functools
import html
import re
import unicodedata
from dataclasses import dataclass
from typing import List, Tuple

from rapidfuzz.distance import OSA

from faq.context import FIRST_PERSON, asks_why

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
    r"message|onderwerp|subject)\s*(?:\(\w+\))?\s*[:>]+\s*",
    re.IGNORECASE | re.MULTILINE,
)
#: Mail forwarding and reply clutter: "Fwd: RE: RE:" at the start of a line,
#: "----- Doorgestuurd bericht -----" banners and "---" separators (a
#: separator ends a sentence).
_MAIL_PREFIXES = re.compile(
    r"^\s*(?:(?:fwd?|re|aw|antw|tr)\s*[:>]+\s*)+", re.IGNORECASE | re.MULTILINE
)
_MAIL_BANNER = re.compile(
    r"-{2,}\s*(?:doorgestuurd bericht|oorspronkelijk bericht|forwarded message"
    r"|original message)\s*-{2,}|-{3,}",
    re.IGNORECASE,
)
_BRACKET_TAGS = re.compile(r"\[/?(?:inst|sys|user|system|assistant)\]", re.IGNORECASE)
#: The same role prefixes after a sentence ("... systeemprompt. [user]: nee").
_INLINE_ROLE = re.compile(
    r"(?<=[.!?])\s*(?:\[(?:user|system|assistant|inst)\]|user|klant|gebruiker)"
    r"\s*:\s*",
    re.IGNORECASE,
)
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
    r"\b"
    + _CLAUSE_REST
    + r"|\b(?:doe (?:maar |nu |eens )?alsof|act as|pretend)\b"
    + _CLAUSE_REST
    + r"|"
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
    r"^(?:en\s+|maar\s+|dus\s+|oké?\s+|ok\s+|allee\s+|zeg\s+)?"
    r"(?:wat|wa|waarom|hoe|hoezo|welke?|wie|wanneer|waar|waarvoor|waardoor|"
    r"waaraan|waarin|waarmee|hoeveel|hoelang|kan|kun|kunt|kunnen|kunde|kunt|mag|"
    r"moet|moeten|moete|zou|zouden|is|zijn|ben|bent|heb|hebt|heeft|hebben|helpt|"
    r"werkt|klopt|geldt|maakt|doet|zit|zitten|krijg|verhoogt|leidt|speelt|"
    r"vertel|leg|geef|weet|weten|what|why|how|which|who|when|where|can|could|"
    r"should|is|are|do|does|will|would|tell|explain)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")


#: Words that may be a misspelt "magnesium" or "vitamine" ("magnesuim",
#: "vitamne", "vitamien"), and how many edits each may be off (a swap of two
#: letters is one edit).
_NUTRIENT_TYPO = re.compile(r"\b[mv][a-zA-Z]{5,10}\b")
_NUTRIENT_SPELLING = {"magnesium": 2, "vitamine": 1}


def _spell_nutrient(match: "re.Match[str]") -> str:
    word = match.group(0)
    lower = word.lower()
    for correct, edits in _NUTRIENT_SPELLING.items():
        if (
            lower != correct
            and lower[0] == correct[0]
            and OSA.distance(lower, correct, score_cutoff=edits) <= edits
        ):
            return correct
    return word


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
    value = _INLINE_ROLE.sub(" ", value)
    value = _BRACKET_TAGS.sub(" ", value)
    value = _TIMESTAMP.sub(" ", value)
    value = _ROLE_PREFIX.sub("", value)
    value = _MAIL_PREFIXES.sub("", value)
    value = _MAIL_BANNER.sub("\n", value)
    value = _INSTRUCTION.sub(" ", value)
    value = _SIGNATURE.sub(" ", value)
    value = "".join(
        ch if unicodedata.category(ch)[0] != "S" or ch in "+%&" else " " for ch in value
    )
    value = _REPEATED_PUNCT.sub(r"\1", value)
    value = _SPACE_BEFORE_PUNCT.sub(r"\1", value)
    value = _SPACES.sub(" ", value)
    value = _BLANK_LINES.sub("\n", value).strip(" \n,;:-")
    return _NUTRIENT_TYPO.sub(_spell_nutrient, value)


#: Words that greet ("hoi", "goedemorgen", "dag").
_GREETINGS = (
    r"hoi|hallo|hey|hee|hi|hello|goedemorgen|goedemiddag|goedenavond"
    r"|goeiedag|goeiemorgen|dag"
)
#: Greetings, thanks and fillers that may open a message ("hoi, ...", "ok top,
#: en ...", "uhm hallo?? ja dus.."), also several in a row.
_PLEASANTRY = re.compile(
    rf"^(?:(?:{_GREETINGS}|ok[eé]?|okee|okay|top|super|prima|fijn|mooi"
    r"|helder|duidelijk|bedankt|dank\s*(?:je|u)?(?:\s+wel)?|thanks|thank you|thx"
    r"|merci|uhm+|uh+|euh+|eh+|ja|jaja|nou|dus|hmm+|zeg|allee|allez|nee|neen|no"
    r"|laat maar|never ?mind)\b[\s,.!?:;-]*)+",
    re.IGNORECASE,
)


#: Words a greeting or a goodbye opens with ("hallo?", "dag, alles goed?",
#: "hoe gaat het?", "tot ziens!").
_GREETING_START = re.compile(
    rf"^\W*(?:{_GREETINGS}|goeie\w*"
    r"|daag|doei\w*|doeg|bye|ciao|houdoe|salu\w*|tot (?:ziens|later|straks)"
    r"|see you|good ?bye|hoe gaat (?:het|'t)|alles goed|how are you|iemand)\b",
    re.IGNORECASE,
)


def greets_or_leaves(text: str) -> bool:
    """Returns whether a message opens with a greeting or a goodbye.

    "elke dag?", "ochtend of avond?" and "tot wanneer lukt het niet?" contain
    words of greetings, but ask something; "hallo?" and "dag, alles goed?"
    greet.
    """
    return bool(_GREETING_START.search(text))


def without_pleasantry(text: str) -> str:
    """Returns the message without the greetings and thanks that open it.

    "hallo, wat kan je allemaal?" asks what the assistant can do, "ok top,
    en hoe zit het met K2?" asks about K2: the opening words are politeness.
    A message that is only politeness comes back empty.
    """
    return _PLEASANTRY.sub("", text, count=1).strip()


#: Emoji that approve of an answer ("👍", "👌🙏"): a thank-you.
_APPROVAL_EMOJI = frozenset("👍👌🙏👏❤♥😊🙂😀😄💪✅")


def emoji_meaning(text: str) -> str:
    """Returns a word for a message of approving emoji only ("top"), else "".

    :func:`clean` removes emoji as noise; a message that is nothing but a
    thumbs-up still says something.
    """
    symbols = [ch for ch in text if not ch.isspace() and ch not in "\ufe0f\u200d"]
    if (
        symbols
        and all(
            ch in _APPROVAL_EMOJI or unicodedata.category(ch) == "Sk" for ch in symbols
        )
        and any(ch in _APPROVAL_EMOJI for ch in symbols)
    ):
        return "top"
    return ""


@dataclass(frozen=True)
class Sentence:
    """One sentence of a message and whether it asks something."""

    text: str
    question: bool


def is_question(sentence: str) -> bool:
    """Returns whether a sentence asks something (question mark or question word)."""
    # a quoted question ('"weet jij waar het in zit?"') asks too
    stripped = sentence.strip().rstrip("\"'”’»)")
    opened = stripped.lstrip("\"'“‘«(")
    return stripped.endswith("?") or bool(_QUESTION_START.match(opened))


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
#: "hoeveel", also misspelt ("hoevel", "hoe veel").
_HOW_MUCH = r"hoe ?ve{1,2}l+e?"
#: Explicit requests for an amount to take: always personal advice.
_DOSE_REQUEST = re.compile(
    rf"\b{_HOW_MUCH}\s+{_UNIT}\b|\bwelke hoeveelheid\b"
    r"|\b(?:how many|how much)\b(?!\s+(?:skin|sun\w*|time|fish|food)\b)"
    rf".{{0,40}}\b(?:{_UNIT}|take|give|should)\b"
    rf"|\b{_HOW_MUCH}\b(?!\s+(?:zon\w*|tijd|minuten|minuutjes|uur|uren|huid|mensen)\b)"
    r".{0,60}"
    r"\b(?:moet|mag|kan|zou|moeten|mogen|kunnen|moete|moogt)\b"
    r".{0,40}\b(?:nemen|slikken|innemen|gebruiken|geven|suppleren|pakken|krijgen)\b"
    # "hoeveel vitamine D heb ik nodig?": an amount for oneself
    rf"|\b{_HOW_MUCH}\b(?!\s+(?:zon\w*|tijd|minuten|minuutjes|uur|uren|huid|mensen)\b)"
    r".{0,40}\b(?:heb|hebt|heeft|hebben)\s+(?:ik|hij|zij|ze|we|wij|mijn \w+)"
    r"\s+(?:\w+\s+){0,2}?nodig\b"
    rf"|(?<![\w.,])\d+(?:[.,]\d+)?\s*{_UNIT}\b.{{0,60}}"
    r"(?:\?|te ?veel|genoeg|veilig|gevaarlijk"
    r"|verhogen|too much|safe)",
    re.IGNORECASE,
)


#: A dose, as a noun ("welke dosis?", "een hoge dosering", "what dose?").
_DOSE_NOUN = r"(?:dosis|dosissen|dosering\w*|dose|doses|dosage)"
#: The word "dose" itself: a request when a question sentence says it ("welke
#: dosis?"), not when the story around a general question does ("Mijn zus
#: slikt hoge doses. Kan vitamine D een magnesiumtekort geven?").
_DOSE_WORD = re.compile(rf"\b(?:{_DOSE_NOUN}|doseren)\b", re.IGNORECASE)


#: "een hoge dosis", "flinke doses": an amount as part of a general question
#: ("wat gebeurt er bij een hoge dosis vitamine D zonder magnesium?"), not a
#: request for one ("welke dosis?", "mijn dosis?").
_QUALIFIED_DOSE = re.compile(
    r"\b(?:(?:zeer|heel|hele|erg) )?(?:hoge|hoog|lage|laag|flinke|grote|kleine"
    rf"|high|low|large|big)\s+{_DOSE_NOUN}\b",
    re.IGNORECASE,
)
#: "welke hoge dosis?", "mijn lage dosis?": asked for all the same.
_ASKED_DOSE = re.compile(
    r"\b(?:welke?|mijn|m'n|mn|jouw|uw|which|what|my|your)\s+(?:\w+\s+){0,3}?"
    rf"{_DOSE_NOUN}\b",
    re.IGNORECASE,
)


def asks_for_dose(text: str) -> bool:
    """Returns whether a message asks how much of something to take.

    The article gives no amounts and the assistant never does; such a
    question is personal advice whatever else the message says (also behind
    noise: use it on the cleaned text). An amount asked for counts anywhere;
    the bare word "dosis" only in a question sentence (or in a message
    without one), and not as "een hoge dosis" in a general question.
    """
    asked = _question_part(text)
    return bool(
        _DOSE_REQUEST.search(text)
        or _ASKED_DOSE.search(asked)
        or _DOSE_WORD.search(_QUALIFIED_DOSE.sub(" ", asked))
    )


#: The article's own nutrients (also misspelt and abbreviated).
_OWN_NUTRIENT = re.compile(
    r"\b(?:magne\w*|mg|vit(?:amine?|amin|\.)?\s*-?d\d?|vitd\d?|d3|d2|k2"
    r"|vit(?:amine?|amin|\.)?\s*-?k2?|calci\w*)\b",
    re.IGNORECASE,
)
#: Other nutrients and supplements, which the article does not cover.
_OTHER_NUTRIENT = re.compile(
    # "vitamine E" needs its space or hyphen: "vitamine" alone is no vitamin E
    r"\b(?:vit(?:amine|amin|\.)?[\s-]+(?:a|b\d{0,2}|c|e|k1)"
    r"|vit(?:amine?|amin|\.)?(?:b\d{0,2}|c|k1)|b\d{1,2}|ijzer\w*|zink"
    r"|jodium|selenium|kalium|natrium|koper|chroom|foliumzuur|omega[\s-]?\d*"
    r"|visolie|krillolie|creatine|collageen|melatonine|probiotica|ashwagandha"
    r"|biotine|q10|iron|zinc|iodine|folic|eiwit(?!ten\b)\w*|prote[iï]ne\w*|protein\w*"
    r"|vezels|voedingsvezels|fib(?:er|re)s?)\b",
    re.IGNORECASE,
)


def names_own_nutrient(text: str) -> bool:
    """Returns whether a message names magnesium, vitamin D or K2."""
    return bool(_OWN_NUTRIENT.search(text))


def names_only_other_nutrients(text: str) -> bool:
    """Returns whether a message is about another nutrient and not ours.

    "In welke producten zit vitamine B12?" differs from a vitamin D question
    by a few characters; the article covers magnesium, vitamin D and K2 only.
    """
    return bool(_OTHER_NUTRIENT.search(text)) and not _OWN_NUTRIENT.search(text)


# ----------------------------------------------------- personal advice
# A high-recall safety layer (issue #8): a personal dose, diagnosis or
# should-I question must never get a content answer. The classifier learns
# most of them; these patterns catch the rest. A message asks for personal
# advice when it asks the assistant to decide for someone in particular: a
# personal situation (pregnancy, a child or parent, a medicine, an illness, a
# test result or amount, an age, "voor mij") with a request to decide
# (should/may/can I, is it wise, start or stop, does it help me), or when it
# asks for a diagnosis ("heb ik een tekort?") or for the assistant's own
# advice ("wat raad je mij aan?"). General first-person questions of the
# article's own FAQ ("Hoe weet ik of ik een tekort heb?", "Hoe lang moet ik
# in de zon?", "Kan ik mijn vitamine D-spiegel laten meten?") name no
# situation and ask for no decision: they stay content.


def _words(*alternatives: str) -> "re.Pattern[str]":
    return re.compile(r"\b(?:" + "|".join(alternatives) + r")", re.IGNORECASE)


#: Pregnancy and breastfeeding (also misspelt): not in the article.
_PREGNANCY = _words(
    r"zw\w{0,2}n\w{0,2}er\w*",
    r"in verwachting",
    r"borstvoeding\w*",
    r"kinderwens",
    r"pregnan\w*",
    r"breast ?feed\w*",
)
#: Infants and toddlers: not in the article either.
_INFANT = _words(
    r"baby\w*", r"peuter\w*", r"kleuter\w*", r"zuigeling\w*", r"toddler\w*", r"newborn"
)
_POSSESSIVE = r"(?:mijn|m'n|mn|men|ons|onze|my|our)\s+(?:\w+\s+){0,3}?"
#: Someone in particular the visitor speaks for, or their doctor.
_RELATIVE_TEXT = (
    _POSSESSIVE + r"(?:zoon\w*|dochter\w*|kind\w*|kids?|baby\w*|peuter\w*"
    r"|kleuter\w*|tiener\w*|puber\w*|ventje|manneke|menneke|kleine|jongen\w*"
    r"|meisje\w*|man|vrouw|partner|vriend\w*|moeder|moeke|vader|vake|mama|papa"
    r"|ma|pa|opa|oma|bomma|bompa|grootmoeder|grootvader|schoon\w+|ouders|broer\w*"
    r"|zus\w*|zuster|hond\w*|kat\w*|huisarts|arts|dokter|therapeut|specialist"
    r"|son|daughter|child\w*|toddler|wife|husband|mom|mum|mother|dad|father"
    r"|grand\w+|parents?|doctor|dog|cat)\b"
)
_RELATIVE = _words(_RELATIVE_TEXT)
#: Medicines and other pills taken alongside (not vitamin pills as such).
_MEDICINE = _words(
    r"medicijn\w*",
    r"medicatie\w*",
    r"medicament\w*",
    r"geneesmiddel\w*",
    r"de pil\b",
    r"anticonceptie\w*",
    r"bloedverdun\w*",
    r"\w*(?:plas|slaap|bloeddruk|ijzer|calcium|kalk)(?:pil|tablet)\w*",
    r"bloeddrukmedic\w*",
    r"multivitamine\w*",
    r"maagzuurremmer\w*",
    r"maagbeschermer\w*",
    r"\w*prazol\b",
    r"levothyroxine",
    r"thyrax",
    r"metformine",
    r"insuline",
    r"prednis\w*",
    r"cortico\w*",
    r"statine\w*",
    r"lithium",
    r"warfarin\w*",
    r"acenocoumarol",
    r"marcoumar",
    r"sintrom",
    r"bisfosfona\w*",
    r"alendronaat",
    r"diuretic\w*",
    r"antibiotic\w*",
    r"antidepressiv\w*",
    r"chemo\w*",
    r"bestraling",
    r"dialy[sz]\w*",
    r"blood thinners?",
    r"medication\w*",
    r"medicine\w*",
    r"(?:heart|blood pressure|sleeping|birth control|thyroid) pills",
)
#: Illnesses and conditions.
_CONDITION = _words(
    r"nierziekte\w*",
    r"nierzi\w*",
    r"nierpati\w*",
    r"nierschade",
    r"nierfalen",
    r"nierinsuf\w*",
    r"nierproblem\w*",
    r"nierstenen",
    r"nierfunctie",
    r"nierzieke",
    r"donornier",
    r"transplant\w*",
    r"kidney\w*",
    r"hartkwaal",
    r"hartziekte",
    r"hartfalen",
    r"hartritme\w*",
    r"hartkloppingen",
    r"hartpati[eë]nt\w*",
    r"hartproblem\w*",
    r"heart\w*",
    r"boezemfibrilleren",
    r"pacemaker",
    r"hoge bloeddruk",
    r"hypertensie",
    r"diabet\w*",
    r"suikerziekte",
    r"schildklier\w*",
    r"thyroid",
    r"hashimoto",
    r"epilep\w*",
    r"crohn",
    r"colitis",
    r"coeliakie",
    r"osteoporose",
    r"botontkalking",
    r"botdichtheid",
    r"reuma\w*",
    r"kanker",
    r"cancer",
    r"operatie",
    r"geopereerd",
    r"surgery",
    r"bypass",
    r"maagverkleining",
    r"sarco[iï]dose",
    r"ms\b",
    r"fibromyalgie",
    r"migraine",
    r"dementie",
    r"alzheimer",
    r"depressi\w*",
    r"anxiety",
    r"adhd",
    r"eczeem",
    r"overgang",
    r"menopauze",
    r"restless legs",
    r"rusteloze benen",
)
#: A test result or an amount: "35 nmol/l", "3000 ie", "mijn waarde was 30".
_RESULT = re.compile(
    r"(?<![\w.,])\d+(?:[.,]\d+)?\s*(?:nmol|mmol|ng/ml|µg/l)"
    rf"|(?<![\w.,])\d+(?:[.,]\d+)?\s*{_UNIT}\b"
    r"|(?:uitslag|waarde|spiegel)\s+(?:\w+\s+){0,4}(?:was|is|van|gaf)\s+(?:\w+\s+){0,4}\d"
    r"|\b(?:vitamine\s*d|magnesium|d3?)\s+(?:\w+\s+)?(?:van|is|was|op)\s+\d{1,3}\b",
    re.IGNORECASE,
)
#: An age: "ik ben 67", "van 3 jaar", "als vrouw van 55", "I'm 70".
_AGE = re.compile(
    r"\bik ben (?:\d{1,3}|\w+tig)\b(?! (?:minuten|uur|dagen|weken|keer))"
    r"|\bvan (?:\d{1,3}|een|twee|drie|vier|vijf|zes|zeven|acht|negen|tien|elf"
    r"|twaalf|\w+tien|\w+tig) (?:jaar|maanden|weken)\b"
    r"|\b\d{1,3}[- ](?:jaar|jarige?|maanden|weken) oud\b"
    r"|\b(?:vrouw|man|meisje|jongen|moeder|vader) van \d{1,3}\b"
    r"|\bi'?m \d{1,3}\b|\b\d{1,3} years? old\b",
    re.IGNORECASE,
)
#: "voor mij", "bij mijn nieren", "tegen mijn klachten", "for me".
_FOR_SOMEONE = re.compile(
    r"\b(?:voor|bij)\s+(?:mij|mezelf|hem|haar)\b|\b(?:zoals|als) ik\b[?.!]?\s*$"
    r"|\blike me\b"
    r"|\b(?:voor|bij|tegen|met|me)\s+(?:mijn|m'n|men)\s+(?!(?:magne|vit|d3|k2"
    r"|lichaam|lijf|huid|botten|tanden|spieren|eten|voeding|maaltijd|gezondheid"
    r"|energie|weerstand|darmen|boodschap|bloed\b))\w+"
    r"|\bin (?:mijn|zijn|haar) (?:geval|situatie)|\bfor (?:me|my\w*)\b|\bin my case",
    re.IGNORECASE,
)
#: The visitor says something about themselves ("ik heb kramp", "ik ben vegan").
_SELF = re.compile(
    r"\bik (?:ben|heb|had|zit|word|voel|slaap|werk|sport|kom|gebruik|slik|neem"
    r"|pak|eet|lig|loop|denk)\b|\bi (?:am|have|take|use|feel)\b|\bi'm\b",
    re.IGNORECASE,
)
#: A taking verb: what a should-I question is about.
_TAKE = (
    r"(?:nemen|neme|innemen|slikken|gebruiken|geven|toedienen|pakken|smeren|kopen"
    r"|bijnemen|bijslikken|combineren|aanvullen|suppleren|starten|beginnen"
    r"|stoppen|ophouden|ophoude|minderen|afbouwen|doorgaan|verhogen|verdubbelen"
    r"|take|give|use|combine)"
)
#: Starting, stopping, more or less: always a decision about oneself.
_START_STOP = (
    r"(?:stoppen|stop|ophouden|ophoude|minderen|afbouwen|doorgaan|blijven|beginnen"
    r"|(?:meer|minder)\s+(?:\w+\s+){0,2}?(?:nemen|slikken|innemen|gebruiken|pakken)"
    r"|starten|verhogen|verdubbelen|keep|continue|start)"
)
_MODAL = (
    r"(?:moet|moeten|mag|mogen|kan|kun|kunt|kunnen|zal|zou|zouden|moogt|moete"
    r"|magde|kunde|zoudt|should|can|could|may|shall|do|does)"
)
_PERSON = r"(?:ik|i|we|wij|hij|zij|ze|die|mijn|m'n|mn|men|onze|ons|my|our|he|she)"
#: "kan mijn huisarts …": what a doctor can do is no decision about taking.
_CARER = r"(?:huisarts|arts|dokter|apotheker|therapeut|specialist|verloskundige)\b"
#: "moet ik", "mag mijn zoon", "of ik ... mag": not "hoe kan ik" (a how-to).
_DECIDE = re.compile(
    r"(?<!\bhoe )(?<!\bwaar )(?<!\bwanneer )(?<!\bwat )(?<!\bwa )"
    rf"\b{_MODAL}\s+{_PERSON}\b(?!\s+{_CARER})"
    r"|\b(?:of|dat|da|als)\s+(?:ik|hij|zij|ze|we|wij)\b[^.?!]{0,50}?"
    r"\b(?:moet|mag|kan|moeten|mogen|kunnen|zou|zal|moogt)\b"
    r"|\b(?:mag|moogt|mogen)\s+(?:dat|da|het)\b",
    re.IGNORECASE,
)
#: "mag mijn zoontje …", "moet mijn moeder …": deciding for someone.
_RELATIVE_DECIDES = re.compile(rf"\b{_MODAL}\s+{_RELATIVE_TEXT}", re.IGNORECASE)
#: A should-I question about taking: "moet ik magnesium nemen", "welke moet
#: ik kopen", "wat moet ik doen", "hoe lang mag ik blijven nemen".
_DECIDE_TAKE = re.compile(
    rf"\b{_MODAL}\s+{_PERSON}\b[^.?!]{{0,60}}\b{_TAKE}\b"
    r"|\bwat\s+(?:moet|moeten|kan|zou)\s+(?:ik|we|hij|zij)\s+(?:nu\s+|dan\s+)?"
    r"(?:doen|nemen|slikken|kopen|gebruiken)\b|\bwat nu\b"
    r"|\b(?:mag|moogt|mogen|kan|moet)\s+(?:dat|da|het|daar|er)\s+(?:\w+\s+){0,4}?"
    r"(?:bij|samen|tegelijk|combineren)\b",
    re.IGNORECASE,
)
#: "in het algemeen", "in general": a question that says it is general.
_IN_GENERAL = re.compile(
    r"\b(?:in het algemeen|algemeen gesproken|in general|generally speaking"
    r"|(?:voor|bij) de meeste mensen|for most people)\b",
    re.IGNORECASE,
)
#: Words about the asker or their own people ("ik", "mijn", "my", "zij").
_SELF_WORD = re.compile(rf"\b(?:{FIRST_PERSON}|hij|zij|ze)\b", re.IGNORECASE)
#: "heb ik dan een supplement nodig?", "do I need extra?": a need of one's own.
_NEED_ME = re.compile(
    r"\b(?:heb|hebben|heeft)\s+(?:ik|we|wij|hij|zij|ze)\s+(?:\w+\s+){0,5}?nodig\b"
    r"|\b(?:do|would|does)\s+(?:i|we|he|she)\s+(?:\w+\s+)?need\b",
    re.IGNORECASE,
)
#: "ik ben vegetariër", "ik eet geen vis": one's own diet is a situation.
_OWN_DIET = re.compile(
    r"\b(?:ik|wij|we)\s+(?:ben|zijn|eet|eten)\s+(?:\w+\s+){0,2}?"
    r"(?:vegetari\w*|vegan\w*|veganist\w*|plantaardig"
    r"|(?:geen|nooit|zelden|amper|bijna nooit) (?:vis|vlees|zuivel))"
    r"|\bi(?:'m| am)\s+(?:a\s+)?(?:vegetarian|vegan)\b"
    r"|\bi (?:don't|do not|never) eat (?:fish|meat|dairy)\b",
    re.IGNORECASE,
)
#: A reason asked for anywhere in the question ("…, waarom heb ik dan meer nodig?").
_WHY_WORD = re.compile(r"\b(?:waarom|hoezo|why|how come)\b", re.IGNORECASE)
#: "moet zij dan …", "should he …": a decision for one person in particular.
_SOMEONE_DECIDES = re.compile(
    r"\b(?:moet|mag|kan|zou)\s+(?:hij|zij|ze)\b|\b(?:should|can)\s+(?:he|she)\b",
    re.IGNORECASE,
)
#: "Is het verstandig/veilig/slim …", "is dat te laag", "kan dat kwaad".
_WISE = re.compile(
    r"\b(?:verstandig|slim|veilig|onveilig|gevaarlijk|verantwoord|raadzaam"
    r"|aan te raden|goed idee|schadelijk|safe|dangerous|wise|good idea|okay)\b"
    # not "waar is het goed voor?", which asks what it does
    r"|(?<!waar )\b(?:is|zijn)\s+(?:het|dat|da|dit|die|deze|zo'n|\d+\s*\w+)\s+"
    r"(?:\w+\s+){0,2}?"
    r"(?:te laag|te hoog|laag|hoog|normaal|goed|genoeg|een tekort|erg|te ?veel"
    r"|ok|oké|oke|nodig|kwaad)\b"
    r"|\b(?:is|zijn)\s+(?:mijn|m'n|zijn|haar)\b[^.?!]{0,40}\b(?:te laag|te hoog|laag"
    r"|hoog|normaal|goed genoeg|ok|oké|gevaarlijk)\b"
    r"|(?<!\bhoe )\bkan\s+(?:dat|da|het)\s+(?:\w+\s+)?(?:kwaad|geen kwaad|zo|samen"
    r"|wel)\b"
    r"|\bte ?veel voor\b|\btoo much\b"
    r"|\b(?:helpt|werkt)\s+(?:\w+\s+){0,2}?(?:tegen|bij|voor)\s+(?:mijn|m'n|zijn"
    r"|haar)\b|\bpast\b[^.?!]{0,40}\bbij\s+(?:mij|me|mijn|hem|haar)\b"
    r"|\b(?:beste?|geschikt|goed)\s+voor\s+(?:mij|me|hem|haar|mijn)\b"
    r"|\bgeschikt voor\b|\bis it (?:ok|okay|safe|wise|fine)\b"
    r"|\b(?:heb|heeft|hebben)\s+(?:ik|hij|zij|we|mijn \w+)\s+(?:er\s+)?(?:\w+\s+)?"
    r"(?:baat|iets|wat)\s+(?:bij|aan)\b"
    r"|\b(?:helpt|werkt)\s+(?:\w+\s+){0,2}?(?:daar|er)\s*(?:tegen|bij|voor)\b"
    r"|\b(?:verstandig|slim|veilig|goed|nodig|erg|ok|oké)\s+(?:als|om|dat)\s+"
    r"(?:ik|mijn|hij|zij|we)\b"
    rf"|\bik (?:wil|ga|overweeg|twijfel|denk erover)\b[^.?!]{{0,40}}\b{_START_STOP}\b",
    re.IGNORECASE,
)
#: "heb ik dan extra magnesium nodig?": only with a situation (medicine, …).
_NEED = re.compile(
    r"\b(?:heb|heeft|hebben)\s+(?:ik|hij|zij|we|wij|mijn \w+)\s+(?:\w+\s+){0,3}?"
    r"nodig\b",
    re.IGNORECASE,
)
#: "helpt magnesium mij?", "zou het hem helpen": asking for an effect on someone.
_HELPS_SOMEONE = re.compile(
    r"\b(?:helpt|helpen|help|werkt)\s+(?:\w+\s+){0,2}?(?:mij|me|hem|haar|ons)\b"
    r"|\b(?:zou|kan|gaat)\s+(?:\w+\s+){0,2}(?:mij|me|hem|haar)\s+helpen\b",
    re.IGNORECASE,
)
#: A diagnosis: "heb ik een tekort?", "denk je dat ik te weinig heb".
_DIAGNOSIS = re.compile(
    r"\b(?:heb|hep|hebt|heeft)\s+(?:ik|hij|zij|ze|mijn \w+)\s+(?:\w+\s+){0,4}?"
    r"(?:\w+[- ]?)?(?:tekort\w*|te weinig|gebrek|deficien\w*)"
    r"|\b(?:heb|hebt|heeft)\s+(?:ik|hij|zij)\s+(?:het|dat|da)\s*(?:dan|nu|echt)?"
    r"\s*\?|\b(?:denk|vind)\s+(?:je|jij|u)\s+dat\s+(?:ik|hij|zij|mijn)\b"
    r"|(?<!\bals )(?<!\bwanneer )\bik denk dat ik\b[^.?!]{0,30}(?:tekort|te weinig)"
    r"|\b(?:ligt|komt)\s+(?:het|dat)\s+(?:\w+\s+)?(?:bij mij|bij hem|bij haar)"
    r"|\b(?:zou|kan)\s+(?:het|dat)\s+bij\s+(?:mij|hem|haar)\b"
    r"|\b(?:kun|kan|kunt)\s+(?:je|jij|u)\s+(?:\w+\s+)?(?:zien|zeggen|vertellen"
    r"|inschatten|beoordelen)\s+of\s+(?:ik|hij|zij|mijn)\b"
    r"|\b(?:am i|do i have|is my)\b[^.?!]{0,40}(?:deficien\w*|low|high|lacking)"
    # "komen mijn klachten door een disbalans?": the cause of one's own complaints
    r"|\b(?:komen|komt|liggen|ligt)\s+(?:mijn|zijn|haar)\s+(?:\w+\s+){0,2}?"
    r"(?:klacht\w*|kramp\w*|\w*pijn|vermoeidheid|moeheid|problemen|trillingen)"
    r"\s+(?:\w+\s+){0,3}?(?:door|van|aan)\b"
    # "tekort bij mij?", "bij mij een tekort?"
    r"|\b(?:tekort\w*|te weinig|gebrek)\s+(?:\w+\s+)?bij\s+(?:mij|mn|m'n|mijn)\b"
    r"|\bbij\s+(?:mij|mijn \w+)\s+(?:\w+\s+)?(?:een\s+)?(?:tekort|gebrek)\b"
    # "kun je mijn uitslag bekijken?": reading one's own result
    r"|\b(?:kun|kan|kunt|wil|wilt)\s+(?:je|jij|u)\s+(?:\w+\s+){0,2}(?:mijn|m'n|mn"
    r"|zijn|haar)\s+(?:\w+\s+)?(?:\w*uitslag\w*|\w*waarde\w*|resultat\w*"
    r"|bloedonderzoek)"
    r"|\b(?:can|could|will) you\s+(?:\w+\s+){0,2}(?:my|his|her)\s+(?:\w+\s+)?"
    r"(?:results?|levels?|values?|blood ?work)\b",
    re.IGNORECASE,
)
#: Own complaints ("ik ben moe", "ik heb kramp"): with "zou ik een tekort
#: kunnen hebben?", "komt dat door …?" a request for a diagnosis.
_OWN_COMPLAINT = re.compile(
    r"(?:\bik\s+|\bik\b[^.?!]{0,60}\ben\s+)(?:ben|heb|voel me|slaap|word)\b"
    r"[^.?!]{0,40}\b(?:moe\w*|vermoeid\w*"
    r"|kramp\w*|hoofdpijn|somber\w*|slecht|prikkelbaar|trill\w*|spierpijn|koud\w*"
    r"|duizelig|lusteloos|futloos|uitgeput|klachten)"
    r"|\b(?:i'm|i am|i feel|i have|i get|i've been|i've got|i keep (?:getting|having))"
    r"\b[^.?!]{0,30}\b(?:tired"
    r"|exhausted|cramps?|headaches?|low|moody|shaky|fatigued?|twitch\w*"
    r"|spasms?)\b",
    re.IGNORECASE,
)
_DIAGNOSIS_ASKED = re.compile(
    r"\b(?:zou|kan|kon|heb|hebt)\s+(?:ik|het|dat)\b[^.?!]{0,40}"
    r"(?:tekort|te weinig|gebrek)|\b(?:komt|ligt)\s+(?:dat|het|da)\b"
    # "moet ik me laten testen?", "should I get a blood test?"
    r"|\b(?:moet|zal|zou|kan)\s+ik\s+(?:me\s+|mij\s+|mijn\s+\w+\s+)?(?:\w+\s+)?"
    r"(?:laten\s+)?(?:testen|prikken|meten|onderzoeken|nakijken|checken)\b"
    r"|\bshould i\s+(?:get|have|be)\s+(?:\w+\s+){0,2}?(?:test\w*|checked)\b"
    r"|\b(?:is|zijn)\s+(?:dat|het|da|die)\s+(?:\w+\s+)?(?:een\s+)?(?:teken van"
    r"|tekort\b)"
    # "kan dat door magnesium komen?", "is it magnesium deficiency?"
    r"|\b(?:kan|zou|kon)\s+(?:dat|het|da)\s+(?:\w+\s+){0,3}?(?:komen|liggen)\b"
    r"|\b(?:is|could)\s+(?:it|that|this)\s+(?:be\s+)?(?:a\s+)?(?:\w+\s+)?"
    r"(?:deficien\w*|shortage|lack)",
    re.IGNORECASE,
)
#: "kan ze een tekort hebben?": whether someone in particular is short.
_THEIR_SHORTAGE = re.compile(
    r"\b(?:kan|zou|kon)\s+(?:hij|zij|ze)\s+(?:\w+\s+){0,3}?"
    r"(?:\w+[- ]?)?(?:tekort\w*|te weinig)\b[^.?!]{0,20}\bhebben\b",
    re.IGNORECASE,
)
#: "Heb ik in de winter sneller een tekort?" asks about a risk, generally.
_RISK = re.compile(
    r"\b(?:kans|risico|sneller|vaker|vaak)\b|^\s*(?:waarom|hoe komt|why)\b",
    re.IGNORECASE,
)
#: Asking for the assistant's own advice for oneself, or a plan.
_ADVICE_ME = re.compile(
    r"\b(?:raad|raadt|adviseer|adviseert)\s+(?:je|jij|u)\s+(?:mij|me|ons|hem|haar)\b"
    r"|\bwat\s+(?:zou|zoudt|zoude)\s+(?:jij|je|gij|u)\s+(?:mij\s+|me\s+)?(?:doen"
    r"|nemen|kiezen|adviseren|aanraden)|\bjouw advies\b|persoonlijk advies"
    r"|\bwhat would you (?:do|take|recommend)|\bwhat do you recommend"
    r"|\b(?:geef|give)\s+(?:me|mij)\s+(?:een\s+|je\s+)?(?:advies|advice)"
    r"|\b(?:schema|plan|suppletieplan|advies)\b[^.?!]{0,40}(?:voor mij|voor mijn"
    r"|for me)|\bvoor mij\b[^.?!]{0,30}\b(?:schema|plan|suppletieplan)\b",
    re.IGNORECASE,
)
#: The assistant's opinion: advice only about a supplement or a situation.
_OPINION = re.compile(
    r"\bwat\s+(?:vind|denk)\s+(?:jij|je|u)\b|\b(?:raad|adviseer)\s+(?:je|jij|u)\b",
    re.IGNORECASE,
)
#: The supplements the advice would be about (ours or pills in general).
_SUPPLEMENT = _words(
    r"magn\w*",
    r"vit\w*",
    r"d3?\b",
    r"k2\b",
    r"supplement\w*",
    r"suppl\w*",
    r"druppel\w*",
    r"tablet\w*",
    r"capsule\w*",
    r"pil\w*",
    r"badkristal\w*",
    r"\w*olie\b",
    r"gummies",
    r"calcium",
    r"kalk\w*",
    r"\w*citraat",
    r"\w*glycinaat",
)
#: "mijn magnesium", "mijn d3": a supplement the visitor takes (not "mijn
#: vitamine D-spiegel laten meten").
_OWN_SUPPLEMENT = re.compile(
    r"\b(?:mijn|m'n|men|zijn|haar)\s+(?:magnesium|vitamine\s*d3?|vit\.?\s*d3?"
    r"|vitamiene\s*d|d3|k2|supplement\w*|druppel\w*|tabletten|pillen)(?![\w-])"
    r"(?!\s+(?:laten|spiegel|status|waarde|niveau|gehalte|behoefte|opname))",
    re.IGNORECASE,
)
#: Someone or something has the condition ("ik heb", "mijn", "als hartpatiënt").
_HAS = re.compile(
    r"\b(?:ik|hij|zij|ze|we|wij|mijn|m'n|men|zijn|haar|ons|onze|i|my|als|met|me"
    r"|heeft|hebben)\b",
    re.IGNORECASE,
)
#: Subjects of other questions about a child or parent (off-domain).
_ELSEWHERE = re.compile(
    r"\b(?:vaccin\w*|prik\w*|inent\w*|griep\w*|corona|covid|hpv|school\w*"
    r"|zwemles\w*|sport\w*|dieet)\b",
    re.IGNORECASE,
)


#: An elliptical follow-up ("mag mijn dochter dat ook?"): about the last topic.
_POINTS_BACK = re.compile(
    r"\b(?:dat|da|dit|het|die|deze|ermee|er|daar\w*)\b", re.IGNORECASE
)


#: "Mijn moeder zegt dat ik het moet slikken, maar wat doet het eigenlijk?":
#: within one sentence, the story ends where "maar" turns to a question.
_TURN_TO_QUESTION = re.compile(
    r"[,;]?\s+(?:maar|but)\s+(?=(?:wat|hoe|waarom|waar|wanneer|welke?|wie|klopt"
    r"|what|how|why|where|which|who|is it|is that)\b)",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=256)
def _question_part(text: str) -> str:
    """Returns the question sentences of a message (the whole when none).

    Cached: the dose, advice and customer-service rules each ask for it of
    the same message.
    """
    asked = [_TURN_TO_QUESTION.split(s.text)[-1] for s in sentences(text) if s.question]
    return " ".join(asked) if asked else text


#: A request for the studies behind the article ("welke onderzoeken?").
_SOURCES_ASKED = re.compile(
    r"\b(?:welke?|which|what)\s+(?:\w+\s+)?(?:onderzoek\w*|studie\w*|bronnen"
    r"|bron|literatuur|publicaties?|studies|research|sources?)\b"
    r"(?![^.?!]*\b(?:laten doen|ondergaan|aanvragen|laten maken|prikken|test\w*))",
    re.IGNORECASE,
)


def asks_personal_advice(text: str) -> bool:
    """Returns whether a message asks for personal medical advice.

    Use it on the cleaned text. The situation may be anywhere in the message
    ("Mijn dochter van 14 zit altijd binnen."), the request must be in a
    question sentence when there is one: a story about someone followed by a
    general question ("Hoe kun je een tekort laten vaststellen?") stays a
    general question.

    Args:
        text: The cleaned message.

    Returns:
        True for a dose of magnesium, vitamin D or K2 (:func:`asks_for_dose`;
        a message about other nutrients only is off-domain), a diagnosis, the
        assistant's own advice, pregnancy/breastfeeding or a baby with a
        supplement, and a personal situation with a request to decide.
    """
    if names_only_other_nutrients(text):
        # "hoeveel ijzer heb ik nodig?": another nutrient, even as a dose, is
        # outside the article (the reply names no dose either way)
        return False
    if asks_for_dose(text):
        return True
    asked = _question_part(text)
    if _IN_GENERAL.search(asked) and not _SELF_WORD.search(asked):
        # "en in het algemeen, verhogen medicijnen de behoefte?": says itself
        # that it asks about people in general (a dose was caught above)
        return False
    personal = (_PREGNANCY, _INFANT, _MEDICINE, _CONDITION)
    service = (
        _SERVICE.search(asked) or (_story_decides(asked) and _SERVICE.search(text))
    ) and not any(p.search(text) for p in personal)
    if service or asks_only_about_other_nutrients(text):
        # "Kan ik een medewerker spreken?", "Welke voeding bevat het meeste
        # ijzer?" after a story about one's own supplements: no decision
        return False
    about_ours = bool(_SUPPLEMENT.search(text) or _RESULT.search(text))
    situation = _situation(text)
    if _DIAGNOSIS.search(asked) and not _RISK.search(asked):
        return True
    if (
        _OWN_COMPLAINT.search(text)
        and _DIAGNOSIS_ASKED.search(asked)
        and not _RISK.search(asked)
    ):
        return True
    if _ADVICE_ME.search(asked):
        return True
    if _RELATIVE.search(text) and _THEIR_SHORTAGE.search(asked):
        # "Mijn dochter … heeft vaak hoofdpijn. Kan ze een tekort hebben?"
        return True
    # the assistant's opinion ("wat vind jij van …?"); "waarom raad je D3 met
    # K2 aan?" asks why the article advises it
    if (about_ours or situation) and _OPINION.search(asked) and not asks_why(asked):
        return True
    if about_ours and _HELPS_SOMEONE.search(asked):
        return True
    if (_PREGNANCY.search(text) or _INFANT.search(text)) and about_ours:
        return True
    if _SOURCES_ASKED.search(asked):
        # "Welke onderzoeken kan ik hem laten zien?" after a story about the
        # doctor: it asks for the article's sources, not for a decision
        return False
    # "why do I need magnesium when I take vitamin D?" asks for a reason
    why = asks_why(asked)
    decide = bool(_DECIDE.search(asked)) and not why
    decide_take = bool(_DECIDE_TAKE.search(asked)) and not why
    if situation and decide_take:
        return True
    if (situation or _OWN_DIET.search(text)) and _NEED_ME.search(asked) and not why:
        # "ik ben vegetariër, heb ik dan een supplement nodig?"
        return True
    if _SELF.search(text) and _NEED_ME.search(asked) and not _WHY_WORD.search(asked):
        # "ik eet best gezond, heb ik dan nog extra magnesium nodig?" (but "ik
        # sport veel, waarom heb ik dan meer nodig?" asks for the reason)
        return True
    if _OWN_DIET.search(text) and decide and _SUPPLEMENT_ONLY.search(asked):
        # "ik eet nooit vis, moet ik dan een supplement?" (but "ik ben vegan,
        # kan ik genoeg uit eten halen?" asks about food, in general)
        return True
    if decide_take and _SOMEONE_DECIDES.search(asked):
        # "moet zij dan supplementen slikken?" after a story about one's mother
        return True
    if decide_take and _OTHER_NUTRIENT.search(_OWN_NUTRIENT.sub(" ", asked)):
        # taking ours with another supplement ("kan ik magnesium en ijzer
        # samen nemen?"): an interaction question for a doctor or pharmacist
        return True
    if not (about_ours or _POINTS_BACK.search(asked)):
        # another subject ("moet mijn dochter de hpv prik?") is off-domain,
        # unless the question decides for someone in particular
        return bool(
            situation
            and not _ELSEWHERE.search(text)
            and _RELATIVE_DECIDES.search(asked)
        )
    if decide and re.search(rf"\b{_START_STOP}\b", asked, re.IGNORECASE):
        return True
    own = bool(_OWN_SUPPLEMENT.search(text))
    if decide_take and (own or _SELF.search(text)):
        return True
    # "zijn eieren genoeg om vitamine D binnen te krijgen?": about food, general
    food_only = bool(_FOOD.search(asked)) and not _SUPPLEMENT_ONLY.search(asked)
    wise = bool(_WISE.search(asked)) and not food_only
    if not situation:
        return own and (wise or decide_take)
    short = len(re.findall(r"\w+", text)) <= 8
    taken = _MEDICINE.search(text) and _HAS.search(text)
    if short and about_ours and (_RELATIVE.search(text) or taken):
        return True
    return decide or wise or bool(_NEED.search(asked))


#: Food: whether it suffices is a general question of the article.
_FOOD = _words(
    r"eten",
    r"voeding\w*",
    r"voedsel",
    r"producten",
    r"vis",
    r"eieren",
    r"ei",
    r"margarine",
    r"zuivel",
    r"noten",
    r"groente\w*",
    r"maaltijd\w*",
    r"food",
)
#: Supplements as such (not "magnesium" in food): "pillen", "slikken".
_SUPPLEMENT_ONLY = _words(
    r"supplement\w*",
    r"pil\w*",
    r"tablet\w*",
    r"capsule\w*",
    r"druppel\w*",
    r"slik\w*",
    r"potje\w*",
)
#: Orders, delivery, returns, accounts: only the shop's people can help (a
#: price alone is not: "wat kost een treinkaartje?").
_SHOP_WORDS = (
    r"(?:mijn |de |die |een )?bestelling\w*",
    r"waar (?:kan ik|kun je|bestel ik)\b[^.?!]{0,30}bestel\w*",
    r"verzend\w*",
    r"levering\w*",
    r"bezorg\w*",
    r"retour\w*",
    r"terug ?sturen",
    r"factuur",
    r"inlog\w*",
    r"account",
    r"abonnement\w*",
    r"track ?(?:en|&) ?trace",
    r"pakket\w*",
    r"my order",
    r"shipping",
    r"delivery",
    r"refund",
)
_SHOP_REQUEST = _words(*_SHOP_WORDS)
#: Any customer-service request: the shop's matters, or a person of the shop.
_SERVICE = _words(
    *_SHOP_WORDS,
    r"medewerker\w*",
    r"klantenservice",
    r"klantendienst",
    r"mens(?:en)? spreken",
    r"bestel\w*",
    r"leveren",
    r"afreken\w*",
    r"customer service",
    r"human",
)


#: A question that names nothing itself ("Wat nu?", "Hoe nu verder?").
_BARE_QUESTION = re.compile(
    r"(?:en\s+)?(?:wat nu|wat moet ik nu|hoe nu verder|en nu|what now|now what"
    r"|wat (?:kan|moet) ik (?:nu |dan )?doen|wat doe ik nu)\s*[?!.]*",
    re.IGNORECASE,
)


def _story_decides(asked: str) -> bool:
    """Returns whether the question part is bare, so the story says its subject.

    "Ik heb badkristallen besteld maar kreeg olie. Wat nu?": the question
    names nothing; the order in the story is what it is about.
    """
    return bool(_BARE_QUESTION.fullmatch(asked.strip()))


#: "ik wil echt iemand spreken", "kan ik dat aan een echte mens vragen?": a
#: person of the shop asked for (not "praat ik met een mens?", which asks
#: about the assistant).
_WANTS_PERSON = re.compile(
    r"\b(?:iemand|een (?:echte? )?(?:mens|persoon|medewerker)|echte? mens"
    r"|a (?:real )?(?:human|person))\b(?:\s+\w+){0,4}?\s+(?:spreken|bellen|vragen"
    r"|talk|speak)\b",
    re.IGNORECASE,
)


def asks_customer_service(text: str) -> bool:
    """Returns whether the question is about an order, delivery or account.

    "Waar bestel ik die badkristallen en wat kost de verzending?" names a
    form of magnesium but asks the shop, not the article.
    """
    asked = _question_part(text)
    if _WANTS_PERSON.search(asked):
        return True
    if _story_decides(asked):
        return bool(_SERVICE.search(text))
    return bool(_SHOP_REQUEST.search(asked))


def asks_only_about_other_nutrients(text: str) -> bool:
    """Returns whether the question sentences ask about another nutrient only.

    "Ik slik magnesium en vitamine D. Welke voeding bevat het meeste ijzer?":
    the story names ours, the question another one (off-domain); "mag ik daar
    ijzer bij nemen?" decides about taking and stays personal advice.
    """
    parts = sentences(text)
    asked = " ".join(p.text for p in parts if p.question)
    return (
        len(parts) > 1
        and bool(asked)
        and names_only_other_nutrients(asked)
        and not _DECIDE.search(asked)
        and not _DECIDE_TAKE.search(asked)
    )


def _situation(text: str) -> bool:
    """Returns whether a message describes someone's own situation."""
    if _CONDITION.search(text) and _HAS.search(text):
        return True
    return any(
        pattern.search(text)
        for pattern in (
            _PREGNANCY,
            _INFANT,
            _RELATIVE,
            _MEDICINE,
            _RESULT,
            _AGE,
            _FOR_SOMEONE,
        )
    )
