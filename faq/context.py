"""Resolves short, elliptical follow-ups against the topic just answered.

After "wat doet vitamine D?" a visitor asks "en wat als je er te weinig van
hebt?": the message names no subject, so alone it is unclear; with the topic
just answered it is the consequences of a vitamin D shortage. The content
file declares, per topic, where each kind of follow-up goes (``follow_ups``
next to ``related``, kinds in :data:`faq.content.FOLLOW_UP_KINDS`); this
module recognises the kind in the message and looks it up.

Used by the action server (``actions/answers.py``, ``actions/fallback.py``)
and by the baseline's emulation of the bot (``tools/baseline.py``), so both
resolve context the same way. Pure functions: no Rasa, no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Dict, FrozenSet, Iterable, List, Optional, Sequence, Text, Tuple

from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

from faq.content import CONTENT_TOPIC_IDS, FOLLOW_UP_KINDS, Content, Topic

#: The words that signal each kind of follow-up (Dutch, Flemish, English).
KIND_PATTERNS: Dict[Text, "re.Pattern[str]"] = {
    kind: re.compile(pattern, re.IGNORECASE)
    for kind, pattern in {
        "omgekeerd": r"\b(?:omgekeerd\w*|andersom|anders? om|vice versa|other way"
        r"|andere richting|andere kant|andere? deel|andere helft|reverse"
        r"|other (?:part|half|side))\b",
        "oplossing": r"\b(?:voorkom\w*|(?:er|daar)aan doen|(?:er|daar) \w+ aan"
        r"|wat doe (?:ik|je) (?:er|daar) (?:\w+ )?aan"
        r"|(?:als|as) (?:je|ge|gij|ik) (?:dat|da|het) (?:niet|nie) (?:kunt|kan|lukt)"
        r"|wat (?:kan|kun|moet|doe) (?:ik|je|ge) (?:\w+ ){0,3}dan|op peil"
        r"|wat? dan(?: wel)?(?=\s*[?!.]*\s*$)|^\W*(?:en |of )?anders(?=\s*[?!.]*\s*$)"
        r"|als (?:dat|da|het|de zon|eten|voeding) (?:\w+ ){0,4}(?:niet|nie) genoeg is"
        r"|als (?:dat|da|het) (?:\w+ ){1,4}(?:niet|nie) lukt|als de zon te zwak"
        r"|if (?:\w+ ){1,3}(?:isn't|is not|aren't|doesn't|does not) (?:enough|work)"
        r"|in (?:balans|evenwicht) (?:\w+ ){0,2}(?:houden|hou|houdt|krijgen)"
        r"|hou\w* (?:\w+ ){0,3}in (?:balans|evenwicht)|keep (?:\w+ ){0,3}in balance"
        r"|wa(?:t)? (?:moet|kan|kunt|moete|kunde) (?:ge|gij|je|u) (?:dan )?"
        r"(?:(?:het )?best )?doen|then what"
        r"|hoe kom (?:ik|je|ge|u) (?:dan |er |daar |nog )*(?:wel )?(?:er|daar)?aan"
        r"|hoe krijg (?:ik|je) (?:dan )?(?:wel )?genoeg|oplos\w*|verhelpen"
        r"|niet lust|niet lekker vind\w*|niet (?:graag )?eet|niet (?:wil|kan) eten"
        r"|(?:don't|do not) like"
        r"|als dat niet lukt|als het niet lukt|lukt dat niet|zon niet schijnt"
        r"|geen zon|zonder zon|prevent\w*|alternatie\w*"
        r"|(?:als|as) (?:\w+ ){1,3}(?:niet|nie|ni|nooit) buiten"
        r"|what (?:can|could|should|do) (?:i|you|we|one) do"
        r"|how (?:do|can) (?:i|you|we) get (?:it|enough|them))\b",
        "vaststellen": r"\b(?:vast ?(?:te )?stellen|vastgesteld|stel\w*\b.*\bvast"
        r"|achter ?komen|daarachter|erachter"
        r"|(?:er|daar) (?!(?:\w+ )?(?:onderzoek|wetenschap|studie|bewijs|bron))"
        r"(?:\w+ ){0,2}achter"
        r"|uitzoeken|zoek\w* (?:\w+ ){0,3}uit|uitvinden|find out"
        r"|bij wie (?:moet|kan|kun|laat|ga)|onderscheid\w*|bij twijfel"
        r"|uit elkaar (?:te )?(?:houden|halen)|tell (?:them|it) apart"
        r"|who (?:should|can|do|would) (?:i|you|we) (?:ask|go to|see|contact)"
        r"|(?:laten|dat|het|je) onderzoeken"
        r"|wie (?:kan|kun|mag|moet) (?:dat|dit|het|die|zo'n \w+) (?:\w+ )?"
        r"(?:doen|afnemen|regelen|uitvoeren|meten|testen|prikken|beoordelen|bepalen"
        r"|aanvragen|inschatten|controleren)"
        r"|wie (?:\w+ ){0,6}helpen|who (?:\w+ ){0,3}help"
        r"|naar wie|huisarts"
        r"|dokter|arts|therapeut"
        r"|meten|meet|test\w*|bloed(?!druk|vat|stol|armoe|suiker)\w*|prik(?:ken|je|jes|test\w*)|labo?\w*|controle\w*|controler\w*"
        r"|laten nakijken|hoe weet|weten of|diagnos\w*|check\w*|measure\w*"
        r"|hoe (?:\w+ ){1,4}zeker (?:\w+ )?weten|know for sure"
        r"|how (?:would|do|can|could|will) (?:i|you|we|one) (?:\w+ )?know"
        r"|hoe zie (?:je|ik|ge) (?:of|welk\w*|wat)"
        r"|bepal\w*|bepaald)\b",
        "klachten": r"\b(?:klacht\w*|kla(?:ch|g|h|cg)t\w*|sympt\w*"
        r"|signa(?:al|len)|merk\w*|voel\w*|moe|vermoeid\w*|kramp\w*|hoofdpijn"
        r"|prikkelba\w*|slaapproblem\w*|slecht slapen|somber\w*|trilling\w*"
        r"|herken\w*|verschijnsel\w*|let(?:ten)? (?:ik |je )?(?:\w+ )?op|opletten"
        r"|notice|look(?:s)? like|ziet (?:\w+ ){0,3}eruit|eruit ?zien)\b",
        # not "te weinig binnen(krijgen)": that is about the intake (voeding)
        "tekort": r"\b(?:te weinig(?!(?: \w+){0,2} binnen)|tekort\w*"
        r"|niet genoeg(?!(?: \w+){0,2} binnen)|onvoldoende|gebrek\w*"
        r"|te laag|too little|not enough|deficien\w*|shortage)\b",
        "gevolgen": r"\b(?:gevolg\w*|wat gebeurt|wat als|what if|erg|gevaarlijk"
        r"|schadelijk|kwaad|consequen\w*|happens?|dangerous|risico's van"
        r"|(?:op )?(?:de )?lange termijn|op den duur|long[ -]term|long run"
        r"|(?:als|as) (?:je|ge|gij|ik|u) (?:dat|da|het|die|ze) (?:niet|nie|ni) "
        r"(?:neemt|neem|slikt|gebruikt|pakt|inneemt))\b",
        "risico": r"\b(?:wie|ouderen|oudere|bejaard\w*|kinderen|kind|baby'?s?"
        r"|zwanger\w*|donker\w* (?:van )?(?:huid|vel)|getinte huid|huidskleur"
        r"|binnenzitters|binnen ?zit\w*|binnen ?blijv\w*|binnenshuis|indoors"
        r"|risicogroep\w*|senioren|bejaarden"
        r"|who|elderly|kids|children|older people|dark skin\w*)\b",
        "voeding": r"\b(?:eten|eet|voeding\w*|voedsel|maaltijd\w*|dieet|producten"
        r"|(?:te weinig|niet genoeg)(?: \w+){0,2} binnen\w*|uit halen"
        r"|uithalen|halen uit|haal (?:je|ik) het"
        r"|waar zit|waarin|zit (?:het|dat|dit|die|er) (?:veel )?in(?=\s*[?.!]|\s*$)"
        r"|eieren|ei|vis|zalm"
        r"|haring|makreel|noten|zaden|groente\w*|spinazie|chocola\w*|cacao"
        r"|food|diet|eat|fish|eggs?|salmon|nuts|seeds|cocoa|spinach|vegetables)\b",
        # not "geen zon" / "als de zon niet schijnt": that asks for an alternative
        # not "behalve de zon" (something else than the sun) nor "zonder"
        "zon": r"\b(?<!geen )(?<!zonder )(?<!behalve de )(?<!naast de )"
        r"(?:zon(?!der)\w*|buiten|daglicht|wandel\w*|rondje|sun\w*|zomer|summer"
        r"|insmeer\w*|insmeren|smeer\w*|spf|factor \d+|aanma\w*"
        r"|maakt (?:je |de )?huid|gezicht|armen|handen|hele lichaam|heel je lijf"
        r"|bloot|blote|face|arms|hands|whole body)\b"
        r"(?!\s+(?:niet|schijnt niet))",
        "supplement": r"\b(?:supplement\w*|slik\w*|pil|pillen|pilletjes?|pillekes?"
        r"|tablet\w*|capsule\w*|druppel\w*|potje\w*|suppler\w*|suppletie|aanvull\w*"
        r"|vul\w* (?:\w+ ){0,3}aan"
        r"|neem (?:ik|je)|neem je|nemen|innemen|pills?)\b",
        "vorm": r"\b(?:vorm\w*|soort\w*|variant\w*|citraat|bisglycinaat"
        r"|badkristal\w*|olie|via de hui[dt]|form|type)\b",
        # "en in de winter?": the season (the sun is in "zon")
        "seizoen": r"\b(?:winter\w*|herfst\w*|najaar|donkere (?:maanden|dagen|periode)"
        r"|koude maanden|welke maand\w*"
        r"|oktober|november|december|januari|februari|maart)\b",
        "samen": r"\b(?:samen|combiner\w*|combinatie|tegelijk\w*|met elkaar"
        r"|iets bij|erbij|daarbij|together|combine\w*)\b",
        "balans": r"\b(?:balans|evenwicht|verhouding|disbalans|balance)\b",
        "werking": r"\b(?:wat doet|doet het|waar is \w+ goed voor|waarvoor"
        r"|(?:waar|hoe) gebeurt|welke organen|omzetting|omgezet"
        r"|(?:waar|hoe) (?:wordt|worden) (?:dat|het|die|dit|ze) (?:\w+ )?"
        r"(?:gemaakt|aangemaakt|geactiveerd|gevormd)"
        r"|functie|nut|rol|helpt|hoe werkt|what does|which organs?|made (?:from|of|in)"
        r"|where does (?:that|it|this) happen|nieren|nier|lever|kidneys?|liver)\b",
    }.items()
}
#: When a message signals several kinds, the first in this order wins.
KIND_PRIORITY: Tuple[Text, ...] = (
    "omgekeerd",
    "vaststellen",
    "oplossing",
    "klachten",
    "tekort",
    "gevolgen",
    "risico",
    "voeding",
    "zon",
    "supplement",
    "vorm",
    "seizoen",
    "samen",
    "balans",
    "werking",
)
assert sorted(KIND_PRIORITY) == sorted(FOLLOW_UP_KINDS) == sorted(KIND_PATTERNS)
#: Kinds that name a way to get a nutrient: more specific than a remedy.
ROUTE_KINDS = frozenset({"voeding", "zon", "supplement", "vorm"})

#: A nutrient named in the message: then it is not elliptical about one.
_NUTRIENT = re.compile(
    r"\b(?:magne\w*|mg|vit\w*|d3|d2|k2|calci\w*|vitamin\w*)\b|\bvitamine\s*[dk]\b",
    re.IGNORECASE,
)
#: Subjects outside the article: "en wat doet zink dan?" is no follow-up.
_OTHER_SUBJECT = re.compile(
    r"\b(?:ijzer\w*|zink|b\d{1,2}|omega\w*|jodium|kalium|selenium|foliumzuur"
    r"|collageen|melatonine|probiotic\w*|creatine|eiwit\w*|protein\w*|griep\w*"
    r"|corona\w*|covid\w*|vaccin\w*|inent\w*|dieet|keto|koffie|alcohol"
    r"|cholesterol|iron|zinc|sint-janskruid|kurkuma|valeriaan|ginseng|echinacea"
    r"|cbd|ashwagandha)\b",
    re.IGNORECASE,
)
#: A message that names the shop's people or orders wants customer service.
NAMES_SERVICE = re.compile(
    r"\b(?:medewerker\w*|mens|persoon|klantenservice|klantendienst|jullie|iemand"
    r"|bestel\w*|retour\w*|lever\w*|pakket\w*|koop|kopen|gekocht|geld|klacht\w*"
    r"|winkel|shop|human|person|agent|staff|someone|order\w*|buy"
    r"|bezorg\w*|geleverd|verzend\w*|verzonden|zending|pakje\w*|track\w*"
    r"|terugbetal\w*|deliver\w*|shipp\w*|refund\w*)\b",
    re.IGNORECASE,
)

#: A message that names the shop's own pages wants them, whatever came before.
NAMES_SHOP = re.compile(
    r"\b(?:kennisbank|artikel\w*|site|website|webshop|magnesium ?test|zelftest"
    r"|online|link\w*|jullie|knowledge base|articles?"
    r"|invul\w*|in te vullen|ergens (?:[\w']+ ){0,3}test\w*)\b",
    re.IGNORECASE,
)
#: Words that point back to what was just said.
_ANAPHOR = re.compile(
    r"\b(?:dat|dit|die|deze|daar\w*|hier\w*|ervan|er|het|ze|zo'n|zo|dan|nog|da"
    r"|eraan|erin|erbij|erover|ermee|erop|ervoor|erna|eruit|erachter|erdoor"
    r"|that|this|it|those|them|there|then)\b",
    re.IGNORECASE,
)
#: Openings that continue the conversation, and endings that react to the
#: last answer ("hoofdpijn ook?", "nierstenen? echt?", "zeewier? serieus?").
_CONTINUATION = re.compile(
    r"^\s*(?:en|maar|ook|dus|oké?|ok|oke|allee|en als|and|but|so|what about"
    r"|hoe zit het|hoe zit dat|geldt)\b"
    r"|\b(?:ook(?:\s+\w+)?|echt|serieus|really|too|as well)\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: A follow-up asking why ("waarom is die balans zo belangrijk?", "en waarom
#: hebben veel mensen er te weinig van?") asks to explain the last answer.
_WHY = re.compile(
    r"^\W*(?:(?:hi|hoi|hallo|hey|en|maar|ok\w*|dus|and|but|so)\W+)*"
    r"(?:waarom|why|hoezo|hoe komt (?:dat|het)|how come|waardoor|hoe ontstaat)\b",
    re.IGNORECASE,
)


def asks_why(text: Text) -> bool:
    """Returns whether a message asks for a reason ("en waarom?", "why do I …?").

    A follow-up asking why explains the last answer (:func:`resolve`); a
    question asking why is no request to decide (``server.nlu.text``).
    """
    return bool(_WHY.search(text))


#: "ook als ze supplementen slikken?", "ook in de zomer?": whether the last
#: answer still holds under a condition, not another side of it.
_ALSO_IF = re.compile(
    r"^\W*(?:en\s+|maar\s+|dus\s+|so\s+)?"
    r"(?:ook|zelfs|geldt (?:dat|dit|het) ook|even)\s+"
    r"(?:als|as|wanneer|bij|in|tijdens|zonder|voor|mensen|met een|if|when|with"
    r"|without)\b",
    re.IGNORECASE,
)
#: The clause forms of it, which may name a nutrient ("ook als je genoeg
#: vitamine D in je bloed hebt?"); "ook bij magnesium?" switches nutrient.
_ALSO_IF_CLAUSE = re.compile(
    r"^\W*(?:en\s+|maar\s+|dus\s+)?(?:ook|zelfs)\s+"
    r"(?:als|as|wanneer|even if|if|when)\b",
    re.IGNORECASE,
)
#: "dus meer slikken helpt niet?", "so it doesn't work without?": a check of
#: the conclusion of the last answer, not a question about another side.
_CONCLUSION_CHECK = re.compile(
    r"^\W*(?:dus|so)\b.*\b(?:niet|nie|geen|niks|niets|not|no|never|nothing"
    r"|doesn'?t|don'?t|minder|slechter|less|worse)\b",
    re.IGNORECASE,
)
#: "dus een tekort aan de een geeft een tekort aan de ander?": a check of what
#: the last answer said about the two nutrients together.
_MUTUAL_CHECK = re.compile(
    r"\b(?:de|het) (?:een|ene)\b.*\b(?:de|het) andere?\b"
    r"|^\W*(?:dus|so)\b.*\bone\b.*\bthe other\b",
    re.IGNORECASE,
)
#: "wat is het verschil tussen die twee?": a comparison of two things the last
#: answer named.
_COMPARES_THOSE = re.compile(
    r"\b(?:verschil|difference)\b.*\b(?:die|deze|beide|those|these|the) (?:twee|two)\b",
    re.IGNORECASE,
)
#: "ook somberheid?", "en somberheid ook?": asking whether the last answer
#: also covers something (stays when it names a word of that answer).
_ALSO_REACTION = re.compile(
    r"^\W*(?:en\s+)?ook\b"
    r"|\b(?:ook|too|as well)(?:\s+(?:echt|wel|really))?\s*[?!.]*\s*$"
    r"|^\W*(?:en|and)\s+[^\W\d_]+\s*[?!.]*\s*$",
    re.IGNORECASE,
)
#: At most this many words make such an "ook …?" reaction.
MAX_ALSO_WORDS = 4
#: A bare question fragment ("echt?", "hoe lang?", "welke groente?"): it
#: cannot stand alone, so it leans on what was just said.
_FRAGMENT = re.compile(
    r"^\W*(?:(?:tot|vanaf|sinds|until|since) )?"
    r"(?:echt|hoezo|waarom|why|serieus|really|welke?|hoe|wat|waar|wanneer|wie"
    r"|hoeveel|how|what|which|where|when|who"
    r"|is|zijn|kan|kun|mag)\b",
    re.IGNORECASE,
)
#: At most this many words make a fragment.
MAX_FRAGMENT_WORDS = 3
#: Words that say an intake is not enough ("eten alleen is niet genoeg?"):
#: with a route named, about that route rather than a shortage.
_NOT_ENOUGH = re.compile(r"\b(?:niet genoeg|onvoldoende|te weinig)\b", re.IGNORECASE)
_SHORTAGE_WORD = re.compile(r"\b(?:tekort\w*|gebrek\w*|deficien\w*)\b", re.IGNORECASE)
#: Where "en magnesium?" goes when the last topic says nothing about it.
DEFAULT_TOPIC_FOR_NUTRIENT: Dict[Text, Text] = {
    "magnesium": "magnesium_voeding",
    "vitamine_d": "functie_vitamine_d",
    "vitamine_k2": "vitamine_k2",
}
#: Nutrients a topic without counterparts is about as a whole ("hoe stel je
#: een tekort vast?" -> "en voor magnesium?" stays with that topic).
SHARED_NUTRIENTS = ("magnesium", "vitamine_d")
#: Longer messages say what they are about; follow-ups are short.
MAX_ELLIPTICAL_WORDS = 14
#: A follow-up this short that signals no kind ("is dat genoeg?", "hoe dan?")
#: asks for more of the same topic when the NLU is unsure.
MAX_SAME_TOPIC_WORDS = 5
#: Content topics of the NLU ranking the context may choose from.
NEAR_CANDIDATES = 3


@dataclass(frozen=True)
class Resolution:
    """The topic the context gives a follow-up, and the kind that decided it."""

    topic: Text
    kind: Optional[Text] = None


#: A question about who ("wie lopen er risico?", "en wie nog meer?").
_ASKS_WHO = re.compile(
    r"^\W*(?:(?:en|maar|dus|allee|allez|ok\w*|and)\W+)?(?:wie|who)\b", re.IGNORECASE
)


#: "als eten niet genoeg is?": the route named is the condition, not the ask.
_ROUTE_FAILS = re.compile(
    r"\b(?:(?:als|as) (?:\w+ ){1,4}(?:niet|nie|ni) (?:genoeg|voldoende|lukt|buiten)"
    r"|if (?:\w+ ){1,4}(?:isn't|is not|aren't|doesn't|does not) (?:enough|work))\b",
    re.IGNORECASE,
)


#: "daarachter": what is behind it, the research when the message names it.
_BEHIND = re.compile(r"\b(?:daar|er)achter\b", re.IGNORECASE)
_RESEARCH = re.compile(
    r"\b(?:onderzoek\w*|studie\w*|bewijs\w*|wetenschap\w*|research|evidence"
    r"|stud(?:y|ies))\b",
    re.IGNORECASE,
)


def kinds_in(text: Text) -> List[Text]:
    """Returns the follow-up kinds a message signals, in priority order.

    A remedy ("oplossing") comes before the problem it names ("hoe voorkom
    je dat tekort?"), but after a route the message names itself ("en hoe
    voorkom je dat, via de zon?").
    """
    kinds = [kind for kind in KIND_PRIORITY if KIND_PATTERNS[kind].search(text)]
    if (
        "oplossing" in kinds
        and any(kind in ROUTE_KINDS for kind in kinds)
        and not _ROUTE_FAILS.search(text)
    ):
        kinds.remove("oplossing")
        kinds.append("oplossing")
    if (
        "tekort" in kinds
        and any(kind in ROUTE_KINDS for kind in kinds)
        and _NOT_ENOUGH.search(text)
        and not _SHORTAGE_WORD.search(text)
    ):
        # "dus eten alleen is niet genoeg?": whether the route suffices
        kinds.remove("tekort")
        kinds.append("tekort")
    if (
        "vaststellen" in kinds
        and _RESEARCH.search(text)
        and not KIND_PATTERNS["vaststellen"].search(_BEHIND.sub(" ", text))
    ):
        # "welke studie zit daarachter?": the research behind it, not a test
        kinds.remove("vaststellen")
    if "risico" in kinds and "vaststellen" not in kinds and _ASKS_WHO.search(text):
        # "wie hebben er dan vaak een tekort?": who is at risk, not the shortage
        kinds.remove("risico")
        kinds.insert(0, "risico")
    return kinds


def is_elliptical(text: Text, nutrient_allowed: bool = False) -> bool:
    """Returns whether a message leans on what was just said.

    It is short, names no nutrient (nor another subject such as zinc or the
    flu jab), and points back ("dat", "er", "dan") or continues ("en ...?",
    "geldt dat ook omgekeerd?").

    Args:
        text: The message.
        nutrient_allowed: Accept a named nutrient ("hoe helpt magnesium dan
            precies?"), for when the NLU was unsure anyway.
    """
    words = re.findall(r"\w+", text)
    if (
        not words
        or len(words) > MAX_ELLIPTICAL_WORDS
        or (_NUTRIENT.search(text) and not nutrient_allowed)
        or _OTHER_SUBJECT.search(text)
    ):
        return False
    return bool(
        _ANAPHOR.search(text)
        or _CONTINUATION.search(text)
        or KIND_PATTERNS["omgekeerd"].search(text)
        or (len(words) <= MAX_FRAGMENT_WORDS and _FRAGMENT.search(text))
    )


#: At most this many words make a question about one side of the last topic
#: ("wat kunnen de gevolgen zijn?") that names no subject of its own.
MAX_BARE_KIND_WORDS = 6


def is_bare_kind_question(text: Text, kinds: Sequence[Text]) -> bool:
    """Returns whether a short message asks about a kind and names no subject.

    "wat kunnen de gevolgen zijn?" right after the risk groups: no nutrient,
    no other subject, no pointing back, yet it can only be about what was
    just said.
    """
    words = re.findall(r"\w+", text)
    return bool(
        kinds
        and 0 < len(words) <= MAX_BARE_KIND_WORDS
        and not _NUTRIENT.search(text)
        and not _OTHER_SUBJECT.search(text)
    )


#: A word echoes an answer from this many letters on ("koffie", not "wat").
ECHO_MIN_LETTERS = 4
#: A word that echoes more topics' answers than this says nothing about which
#: one was meant ("mensen", "lichaam", "tekort").
ECHO_MAX_TOPICS = 2
#: A follow-up that echoes the last answer has at most this many words.
MAX_ECHO_WORDS = 7
#: Words this similar (normalised Levenshtein) count as the same word, so a
#: typo or another inflection still echoes ("nierziekte", "nierziekten").
ECHO_SIMILARITY = 0.8
#: From this many letters, the first part of a compound of the answer echoes it.
ECHO_COMPOUND_LETTERS = 6
_WORD = re.compile(r"[^\W\d_]+")
_vocabularies: Dict[Tuple[Text, Text], Dict[Text, FrozenSet[Text]]] = {}


def answer_words(content: Content) -> Dict[Text, FrozenSet[Text]]:
    """Returns, per content topic, the words of its answers (lower case).

    Short and long answer; for ``bronnen`` also the citations and summaries
    of its sources, since that answer lists them. Computed once per version
    of the content file.
    """
    key = (str(content.path), content.version)
    if key not in _vocabularies:
        vocabulary = {}
        for topic in content.topics.values():
            parts = [topic.short, topic.long]
            if topic.id == "bronnen":
                parts += [
                    f"{s.citation or ''} {s.summary}" for s in content.sources_of(topic)
                ]
            vocabulary[topic.id] = frozenset(
                w.lower()
                for w in _WORD.findall(" ".join(parts))
                if len(w) >= ECHO_MIN_LETTERS
            )
        _vocabularies.clear()
        _vocabularies[key] = vocabulary
    return _vocabularies[key]


def _contains(known: FrozenSet[Text], word: Text) -> bool:
    """Returns whether ``known`` has the word, or (from five letters) a near one."""
    if word in known:
        return True
    if len(word) >= ECHO_COMPOUND_LETTERS and any(k.startswith(word) for k in known):
        # "hartritme?" takes up "hartritmestoornissen"
        return True
    return len(word) > ECHO_MIN_LETTERS and bool(
        process.extractOne(
            word,
            known,
            scorer=Levenshtein.normalized_similarity,
            score_cutoff=ECHO_SIMILARITY,
        )
    )


def echoes_last_answer(text: Text, last: Topic, content: Content) -> bool:
    """Returns whether a short message takes up a word of the last answer.

    "en koffie?" right after the answer that names coffee among what raises
    the need for magnesium, "en over nierziekte?" after the source list:
    visitors ask about what they were just told. Only words that at most
    :data:`ECHO_MAX_TOPICS` topics' answers contain count (so "vitamine" or
    "lichaam" do not), and no nutrient, which says where to go by itself.
    """
    words = _WORD.findall(text.lower())
    if not words or len(re.findall(r"\w+", text)) > MAX_ECHO_WORDS:
        return False
    vocabulary = answer_words(content)
    for word in words:
        if len(word) < ECHO_MIN_LETTERS or (
            len(word) <= len("magnesium") and _NUTRIENT.fullmatch(word)
        ):
            continue  # a nutrient says where to go by itself; a compound may echo
        echoed = {
            topic for topic, known in vocabulary.items() if _contains(known, word)
        }
        if last.id in echoed and len(echoed) <= ECHO_MAX_TOPICS:
            return True
    return False


#: After the source list, "welke gaat over de zon?", "en over nierziekte?",
#: "zit er ook een trial tussen?" ask which of those sources.
_WHICH_SOURCE = re.compile(
    r"^\W*(?:en\s+|maar\s+|ok\w*\W+)?(?:welke|which|die|that one)(?:\s+\w+)?\s+"
    r"(?:gaat|gaan|is de|zijn de|bron\w*|studie\w*|onderzoek\w*|paper\w*"
    r"|artikel\w*|van|over|about|on|daarvan|noemt|heeft|one|study|source)\b"
    r"|^\W*(?:en\s+|maar\s+)?(?:over|about)(?:\s+\w+){1,3}\W*$"
    r"|\b(?:tussen|daarvan|daartussen|among them|of them|anything (?:on|about))\b"
    r"|\b(?:studie|studies|study|trial|onderzoek\w*|paper\w*|review|randomi\w*"
    r"|hoeveel (?:zijn|zijn het|bronnen)|how many)\b",
    re.IGNORECASE,
)


#: A request for the gist of the last answer ("tl;dr?", "korte versie?").
_SUMMARY = re.compile(
    r"\b(?:tl;? ?dr|tldr|korte versie|kort(?:er)? samengevat|samenvatting"
    r"|samenvatten|in het kort|in (?:één|een|1) zin|in (?:a )?nutshell"
    r"|short version|summary"
    r"|sum (?:it|that) up|in short)\b",
    re.IGNORECASE,
)
#: At most this many words make such a request ("geef me de korte versie").
MAX_SUMMARY_WORDS = 6
#: "ook" in a follow-up ("en magnesiumtekort ook?", "kan het ook D zijn?"),
#: or a closing "wel" that contrasts ("en vitamine D wel?").
_ALSO_WORD = re.compile(r"\b(?:ook|too|also|as well)\b|\bwel\W*$", re.IGNORECASE)
#: "en bij een vitamine D-tekort?", "en van vitamine d?", "en door vitamine D?",
#: "and for magnesium?", or the other nutrient right after "en" ("and vitamin D
#: deficiency?", "en een magnesiumtekort?"): the same for another.
_AND_FOR = re.compile(
    r"^\W*(?:en|and|maar)\s+(?:die\s+|dat\s+|those\s+)?"
    r"(?:bij|voor|met|van|door|for|with|at|of|from|due to|because of)\b"
    r"|^\W*(?:en|and)\s+(?:een\s+|a\s+|te weinig\s+|low\s+)?(?:magnes|mg\b|vit|d3?\b)",
    re.IGNORECASE,
)
#: The two nutrients the article is about.
_SHARED_NUTRIENT = re.compile(
    r"\b(?:magnes\w*|vit(?:amine?)?\.?\s*d\b|d3\b)", re.IGNORECASE
)
#: "van wat, magnesium of D?": which of the two nutrients the answer meant.
_WHICH_OF_BOTH = re.compile(
    r"\b(?:magnes\w*|mg)\s+(?:of|or|en|and)\s+(?:vit(?:amine?)?\.?\s*)?d3?\b"
    r"|\b(?:vit(?:amine?)?\.?\s*)?d3?\s+(?:of|or|en|and)\s+(?:magnes\w*|mg)\b",
    re.IGNORECASE,
)
#: The other nutrients it names, each with a topic or answer of its own.
_OTHER_NUTRIENT_NAMED = re.compile(r"\b(?:k2|calci\w*|fosfa\w*)\b", re.IGNORECASE)


def resolve(
    text: Text,
    last_topic: Optional[Text],
    content: Content,
    ranking: Sequence[Tuple[Text, float]] = (),
    unsure: bool = False,
    refused: bool = False,
) -> Optional[Resolution]:
    """Returns the topic an elliptical follow-up asks about, or None.

    Args:
        text: The visitor's message.
        last_topic: The content topic answered just before (``laatste_topic``).
        content: The loaded content (for ``follow_ups`` and ``related``).
        ranking: The NLU ranking of the message, (intent, confidence), best
            first.
        unsure: Whether the NLU was unsure (fallback). Then, without a kind
            in the message (or when it names a nutrient), the last topic
            itself when the message is a bare "is dat genoeg?" or when it is
            among the top three content topics of the ranking, else the
            best-ranked of its follow-up and related topics there.
        refused: Whether the NLU took the message for off-domain. Then only a
            kind in the message, or the last topic among the top two content
            topics of the ranking ("is het echt een hormoon?" after the
            vitamin D answer), decides.

    Returns:
        The resolution, or None when the message is not an elliptical
        follow-up of the last topic or the context does not settle it.
    """
    last = content.topic(last_topic) if last_topic else None
    if last is None:
        return None
    elliptical = is_elliptical(text)
    kinds = kinds_in(text)
    nlu_topic = _confident_topic(ranking)
    # the NLU's top intent at each level of certainty the rules below ask for
    sure_refusal = _sure_intent(ranking, SURE_REFUSAL_CONFIDENCE) is not None
    sure_reading = _sure_intent(ranking, SURE_LAST_CONFIDENCE)
    sure_of_last = sure_reading == last.id
    sure_of_near = sure_reading in _near(last) - {last.id}
    # the content topics of the ranking, best first
    ranked = [name for name, _ in candidates(ranking)]
    word_count = len(_words(text))
    if _SUMMARY.search(text) and word_count <= MAX_SUMMARY_WORDS:
        # "tl;dr?", "geef me de korte versie": the short answer again
        return Resolution(last.id)
    if (
        last.id == "bronnen"
        and word_count <= MAX_ELLIPTICAL_WORDS
        and _WHICH_SOURCE.search(text)
    ):
        # "welke gaat over de zon?": which of the sources just listed
        return Resolution(last.id)
    if not elliptical and is_bare_kind_question(text, kinds):
        # "wat kunnen de gevolgen zijn?": only its first kind may decide,
        # unless the NLU is sure of the topic another of its kinds leads to
        # ("citraat of bisglycinaat tegen krampen?" after the forms)
        for kind in kinds:
            if nlu_topic is not None and last.follow_ups.get(kind) == nlu_topic:
                return Resolution(nlu_topic, kind)
        target = last.follow_ups.get(kinds[0])
        if target:
            return Resolution(target, kinds[0])
    if (
        _ALSO_IF.search(text)
        and "omgekeerd" not in kinds
        and (elliptical or _ALSO_IF_CLAUSE.search(text))
        and is_elliptical(text, nutrient_allowed=True)
    ):
        # "ook als ze supplementen slikken?": does the last answer still hold
        return Resolution(last.id)
    if _COMPARES_THOSE.search(text) and is_elliptical(text, nutrient_allowed=True):
        # "wat is het verschil tussen die twee?": two things the answer named
        return Resolution(last.id)
    if (
        _CONCLUSION_CHECK.search(text)
        and is_elliptical(text, nutrient_allowed=True)
        and not sure_of_near
    ):
        # "dus zonder magnesium werkt je supplement niet?"
        return Resolution(last.id)
    if _MUTUAL_CHECK.search(text) and word_count <= MAX_ELLIPTICAL_WORDS:
        # "de een … de ander" points back to the two the answer was about
        return Resolution(last.id)
    if (
        not last.counterparts
        and (_ALSO_WORD.search(text) or _AND_FOR.search(text))
        and _SHARED_NUTRIENT.search(text)
        and not _OTHER_NUTRIENT_NAMED.search(text)
        and set(kinds) <= {"tekort"}
        and is_elliptical(text, nutrient_allowed=True)
        and not (refused and sure_refusal)
    ):
        # "kan het ook vitamine D zijn?" after the symptoms: an answer about
        # both nutrients (no counterpart topic) already covers the other one
        return Resolution(last.id)
    if (
        not last.counterparts
        and word_count <= MAX_ALSO_WORDS + 1
        and _WHICH_OF_BOTH.search(text)
        and not kinds
    ):
        # "van wat, magnesium of D?" after the symptoms: which nutrient the
        # answer about both meant
        return Resolution(last.id)
    # The NLU could not place it, but it takes up a word just said ("en koffie?"):
    # asked only once the message's own kinds have not decided.
    unplaced = unsure or refused
    if not elliptical:
        # A short follow-up that names its nutrient: only when the NLU was
        # unsure, and then only its own ranking near the last topic decides.
        if not (unplaced and is_elliptical(text, nutrient_allowed=True)):
            # a sure refusal of a whole question ("en hoeveel koffie per dag
            # is gezond?") stands; a bare "en koffie?" still takes the word up
            bare = word_count <= MAX_ALSO_WORDS
            if (
                unplaced
                and (bare or not (refused and sure_refusal))
                and (
                    echoes_last_answer(text, last, content)
                    or _prefers_last(text, last, ranking)
                )
            ):
                return Resolution(last.id)
            if (
                unsure
                and kinds
                and ranked
                and last.follow_ups.get(kinds[0]) == ranked[0]
            ):
                # "wat zijn de gevolgen als ge te weinig hebt?" after the sun:
                # the NLU's best guess is where the message's kind leads
                return Resolution(ranked[0], kinds[0])
            return None
    else:
        if (
            word_count <= MAX_ALSO_WORDS
            and _ALSO_REACTION.search(text)
            and "omgekeerd" not in kinds
            and echoes_last_answer(text, last, content)
        ):
            return Resolution(last.id)
        if asks_why(text) and not ROUTE_KINDS.union({"omgekeerd"}) & set(kinds):
            if nlu_topic in _near(last) - {last.id}:
                # "en waarom is het dan nog niet actief?" after the hormone:
                # the NLU places the reason in a related topic, the activation
                return None
            # the reason behind what was just said, not another side of it;
            # a route it names ("waarom dan niet via de zon?") still leads there
            return Resolution(last.id)
        answered = ranking[0][0] if ranking else None
        if (
            not kinds
            and answered in last.counterparts.values()
            and last.id in content.topics[answered].counterparts.values()
        ):
            # "haal je daar genoeg uit?" after the vitamin D food: it names no
            # nutrient, so the NLU's other-nutrient reading cannot be meant
            return Resolution(last.id)
        targets = [(last.follow_ups[k], k) for k in kinds if k in last.follow_ups]
        if targets and sure_of_last:
            # "en mensen die weinig buiten komen?" after the risk groups: the
            # NLU is sure it is still about them, whatever the kind suggests
            return Resolution(last.id)
        for target, kind in targets:
            if target == nlu_topic:
                # "en somberheid bij een tekort?": several kinds, and the NLU
                # confidently chose one of their topics
                return Resolution(target, kind)
        if targets:
            return Resolution(*targets[0])
    if unplaced and echoes_last_answer(text, last, content):
        return Resolution(last.id)
    if refused:
        if last.id in ranked[:2] or (
            elliptical
            and not kinds
            and (
                _DEMONSTRATIVE.search(text) or (_points_back(text) and not sure_refusal)
            )
        ):
            # "wat is het verschil tussen die twee?": it names no subject of
            # its own, so it can only be about what was just said; a bare
            # "en …?" only when the refusal is not sure ("en hoeveel water
            # moet je per dag drinken?" is off-domain)
            return Resolution(last.id)
        return None
    if not unsure:
        return None
    # kinds left here have no follow-up of the last topic ("waar zit het dan?"
    # after the blood test): a short elliptical message stays with it
    if (elliptical or not kinds) and (
        last.id in ranked[:NEAR_CANDIDATES]
        or (elliptical and word_count <= MAX_SAME_TOPIC_WORDS)
    ):
        return Resolution(last.id)
    near = {last.id, *last.follow_ups.values(), *last.related}
    for name in ranked[:NEAR_CANDIDATES]:
        if name in near:
            return Resolution(name)
    return None


#: From this confidence on, the NLU's content intent chooses among the topics
#: a follow-up's kinds lead to, and places a why-question in a related topic.
NLU_CHOICE_CONFIDENCE = 0.5
#: From this confidence on, the NLU's certainty that a follow-up is still
#: about the last topic outweighs the kind of follow-up its words suggest.
SURE_LAST_CONFIDENCE = 0.85
#: From this confidence on, a refusal is not overruled by a bare "en …?".
SURE_REFUSAL_CONFIDENCE = 0.9


def _sure_intent(ranking: Sequence[Tuple[Text, float]], level: float) -> Optional[Text]:
    """Returns the NLU's top intent when its confidence reaches ``level``."""
    if ranking and ranking[0][1] >= level:
        return ranking[0][0]
    return None


def _confident_topic(ranking: Sequence[Tuple[Text, float]]) -> Optional[Text]:
    """Returns the NLU's intent when it is a content topic it is sure enough of."""
    name = _sure_intent(ranking, NLU_CHOICE_CONFIDENCE)
    return name if name in CONTENT_TOPIC_IDS else None


def _near(topic: Topic) -> FrozenSet[Text]:
    """Returns a topic, its follow-ups, related topics and counterparts."""
    return frozenset(
        {
            topic.id,
            *topic.follow_ups.values(),
            *topic.related,
            *topic.counterparts.values(),
        }
    )


#: The NLU's best content topic, when it is the last topic, keeps an unsure
#: or refused short message there from this confidence on.
LAST_PREFERRED_CONFIDENCE = 0.15


def _prefers_last(
    text: Text, last: Topic, ranking: Sequence[Tuple[Text, float]]
) -> bool:
    """Returns whether the NLU, unsure or refusing, still liked the last topic best.

    "what's glycinate good for?" right after the forms of magnesium: the NLU
    refused it, but of the content topics it rated the forms highest.
    """
    words = re.findall(r"\w+", text)
    if not words or len(words) > MAX_ELLIPTICAL_WORDS or _OTHER_SUBJECT.search(text):
        return False
    best = candidates(ranking)[:1]
    return (
        bool(best) and best[0][0] == last.id and best[0][1] >= LAST_PREFERRED_CONFIDENCE
    )


#: Words that can only point back to what was said ("het", "er" need not:
#: "hoe laat is het?").
_DEMONSTRATIVE = re.compile(
    r"\b(?:dat|dit|die|deze|daar\w+|hier\w+|ervan|eraan|erin|erbij|ermee|zo'n"
    r"|that|this|those|these)\b",
    re.IGNORECASE,
)


def _points_back(text: Text) -> bool:
    """Returns whether a message points back or continues ("en …", "die twee")."""
    if _DEMONSTRATIVE.search(text) or _CONTINUATION.search(text):
        return True
    if not _FRAGMENT.search(text):
        return False
    words = len(re.findall(r"\w+", text))
    # "hoe?", "how so?": a bare question asks about the last answer;
    # "hoe vaak dan?": a bare fragment that says "then"
    return words <= 2 or (
        words <= MAX_FRAGMENT_WORDS
        and bool(re.search(r"\bdan\s*[?!.]*\s*$", text, re.IGNORECASE))
    )


#: Words about oneself (Dutch and English); the advice rules use them too.
FIRST_PERSON = r"(?:ik|mijn|m'n|mn|me|mij|wij|we|ons|onze|i|i'm|my|our)"
#: Then a question is never taken for one about the answer.
_FIRST_PERSON = re.compile(rf"\b{FIRST_PERSON}\b", re.IGNORECASE)


def asks_what_the_answer_named(
    text: Text,
    last: Topic,
    content: Content,
    ranking: Sequence[Tuple[Text, float]],
) -> bool:
    """Returns whether an unsure advice reading is a question about the answer.

    "welke medicijnen dan?" right after the answer that says certain
    medicines raise the need for magnesium asks which ones the article
    means, not what the visitor should take. Only when the NLU alone took it
    for personal advice and not surely (the advice rules lift a real request
    to :data:`SURE_REFUSAL_CONFIDENCE`), the message is a bare follow-up of
    at most four words that says nothing about the visitor, and it takes up
    a word of the last answer.
    """
    if not ranking or _sure_intent(ranking, SURE_REFUSAL_CONFIDENCE):
        return False
    return (
        len(_words(text)) <= MAX_ALSO_WORDS
        and not _FIRST_PERSON.search(text)
        and echoes_last_answer(text, last, content)
    )


def continues_last_topic(text: Text, last_topic: Optional[Text]) -> bool:
    """Returns whether a message (a personal question, say) leans on the last topic.

    "kan ik die gewoon nemen met mijn bloeddrukpillen?" after the answer on
    vitamin D supplements is about those supplements: the general topic to
    offer with the refusal is the last one.
    """
    return bool(last_topic) and is_elliptical(text, nutrient_allowed=True)


def candidates(
    ranking: Iterable[Tuple[Text, float]], exclude: Iterable[Text] = ()
) -> List[Tuple[Text, float]]:
    """Returns the content topics of a ranking, best first (minus ``exclude``)."""
    excluded = set(exclude)
    return [
        (name, confidence)
        for name, confidence in ranking
        if name in CONTENT_TOPIC_IDS and name not in excluded
    ]


#: Why a nutrient goes with vitamin D ("en waarom ook magnesium erbij?"):
#: the article's answer to that question (FAQ 1 for magnesium).
WHY_WITH_VITAMIN_D: Dict[Text, Text] = {
    "magnesium": "magnesium_activeert_vitamine_d",
    "vitamine_k2": "vitamine_k2",
}
#: Words that add a nutrient to what was just discussed ("erbij", "with").
_ADDING_WORDS = r"erbij|samen|combiner\w*|tegelijk\w*|with|together|along"
_ADDING = re.compile(rf"\b(?:{_ADDING_WORDS})\b", re.IGNORECASE)
#: The same, and the looser words a why-question adds with ("waarom ook …").
_ADDED = re.compile(rf"\b(?:{_ADDING_WORDS}|bij|ook|nodig|too|also)\b", re.IGNORECASE)

#: How the answers name each nutrient.
NUTRIENT_NAMES: Dict[Text, Text] = {
    "magnesium": "magnesium",
    "vitamine_d": "vitamine d",
    "vitamine_k2": "k2",
}


def nutrient_follow_up(last: Optional[Topic], nutrient: Text, text: Text = "") -> Text:
    """Returns the topic of "en <nutrient>?" after the topic ``last``.

    Asked why, with the nutrient added ("waarom dan ook magnesium erbij?"),
    the topic that explains why it goes with vitamin D (after K2, why K2
    goes with vitamin D stays with K2). Added to an answer that names it
    ("en magnesium erbij?" after the supplements), that answer. Otherwise
    the last topic's counterpart for the nutrient (``counterparts`` in the
    content file); a topic without any counterparts is about magnesium and
    vitamin D alike and stays; else the nutrient's default topic.

    Args:
        last: The topic answered just before, if any.
        nutrient: The nutrient the message names (``stof``).
        text: The message.
    """
    if asks_why(text) and _ADDED.search(text):
        if nutrient in WHY_WITH_VITAMIN_D:
            return WHY_WITH_VITAMIN_D[nutrient]
        if (
            nutrient == "vitamine_d"
            and last is not None
            and last.id in WHY_WITH_VITAMIN_D.values()
        ):
            # "en waarom hoort het bij D3?" after K2: why it goes with vitamin D
            return last.id
    if (
        last is not None
        and _ADDING.search(text)
        and NUTRIENT_NAMES[nutrient] in last.short.lower()
    ):
        # "en magnesium erbij?" after the supplements, whose answer says to
        # take it with them: whether the last answer covers the addition
        return last.id
    if last is not None:
        if nutrient in last.counterparts:
            return last.counterparts[nutrient]
        if not last.counterparts and nutrient in SHARED_NUTRIENTS:
            return last.id
    return DEFAULT_TOPIC_FOR_NUTRIENT[nutrient]


#: Words of a bare acknowledgement ("ok", "oké top", "ok snap ik", "helder").
_ACK_CORE = frozenset(
    "ok oke oké okee okay okey oki okido prima top helder duidelijk snap snappen"
    " begrepen begrijp aha ahzo mooi fijn super nice cool klopt alright gotcha"
    " thx thnx thanx tx thanks tnx ty dank dankje dankjewel bedankt merci goed cheers"
    " ta great"
    " jammer".split()
)
#: Words that may come with an acknowledgement without changing it.
_ACK_FILLER = frozenset(
    "ah oh o zo ik het dat is was je u wel hoor dan al nu even ff echt heel"
    " erg hè he hé lekker it got laat maar da s das good to know haha voor vooor"
    " de info uitleg hulp antwoord antwoorden reactie moeite en and"
    " nog een goeie goede fijne prettige".split()
)
#: Words of a "no" that closes rather than declines ("nee hoor, dank je").
_CLOSING_NO = frozenset(
    "dank dankje bedankt thx thanks tnx merci goed prima genoeg helder duidelijk"
    " top".split()
)


def _words(text: Text) -> List[Text]:
    return [w.lower() for w in re.findall(r"\w+", text)]


#: At most this many words make a bare acknowledgement ("bedankt en nog een
#: goeie dag").
MAX_ACK_WORDS = 6
#: Goodbyes that may come with an acknowledgement ("oké doei").
_ACK_BYE = frozenset(
    "doei doeii doeiii doeg dag daag bye ciao tot ziens later houdoe salukes"
    " salu".split()
)


#: Thanks, then what the visitor will do now ("ok dank je, ik vraag het de
#: dokter", "thanks, ga ik lezen"): it closes the point, it asks nothing.
_THANKS_THEN_PLAN = re.compile(
    r"^\W*(?:(?:ok\w*|oké|top|prima|super|fijn)\W+)?"
    r"(?:dank\w*|bedankt|thanks|thank you|thx|merci)\b[^?]*?[,.!]\s*"
    r"(?:(?:dan|nu|zo)\s+)?(?:ik (?:ga|vraag|zal|kijk|lees|bel|maak|check)"
    r"|(?:ga|kijk|lees|vraag|bel|zoek) ik|i'll|i will)\b[^?]*$",
    re.IGNORECASE,
)


def acknowledgement_topic(text: Text) -> Optional[Text]:
    """Returns ``bedankt`` or ``afscheid`` for a bare acknowledgement, else None.

    "ok", "oké top", "ok snap ik", "helder": after an answer that offered
    nothing, these close the point; they do not ask for more ("ja graag",
    "doe maar", "vertel maar" do). With a goodbye ("oké doei") they end the
    conversation.
    """
    if _THANKS_THEN_PLAN.search(text):
        return "bedankt"
    words = _words(text)
    if not (
        0 < len(words) <= MAX_ACK_WORDS
        and any(w in _ACK_CORE for w in words)
        and all(w in _ACK_CORE or w in _ACK_FILLER or w in _ACK_BYE for w in words)
    ):
        return None
    return "afscheid" if any(w in _ACK_BYE for w in words) else "bedankt"


#: "Dag" greets and says goodbye alike; after an answer it says goodbye.
_DAG = frozenset("dag daag dagdag".split())
#: Words that may follow a closing "dag" ("dag hé", "dag hoor", "dag allemaal").
_DAG_TAIL = frozenset("hé he hè hoor dan nog allemaal".split())


def greeting_topic(text: Text, last_topic: Optional[Text]) -> Text:
    """Returns ``afscheid`` for a closing "dag" after an answer, else ``groet``.

    "Dag!" opens a conversation and ends one. Once the assistant has
    answered, a message whose last word is "dag" ("oké interessant. dag!",
    "dag hé") ends it; at the start, or with any other greeting, it greets.
    """
    words = _words(text)
    while words and words[-1] in _DAG_TAIL:
        words.pop()
    return "afscheid" if last_topic and words and words[-1] in _DAG else "groet"


def is_acknowledgement(text: Text) -> bool:
    """Returns whether a message only acknowledges an answer (see above)."""
    return acknowledgement_topic(text) is not None


def is_closing_no(text: Text) -> bool:
    """Returns whether a "no" closes the point ("nee hoor, dank je").

    With nothing offered, "nee hoor, is goed zo" declines nothing: it says
    the visitor has what they wanted. A bare "nee" stays a decline.
    """
    words = _words(text)
    return 0 < len(words) <= 8 and any(w in _CLOSING_NO for w in words)


#: A "no" opens with it; "maar dat zegt niet alles?" is a question instead.
_NO_WORD = frozenset("nee neen nope no nah nein niet".split())
#: A question opening with it doubts the answer ("echt niet?").
_DOUBT_WORD = frozenset("echt serieus really seriously zeker".split())
#: From this many words a question with "niet" in it is no bare "no".
MIN_QUESTION_WORDS = 3


def questions_rather_than_declines(text: Text) -> bool:
    """Returns whether a message the NLU took for "no" is a question instead.

    "maar dat zegt niet alles?" or "is da niet zwaar voor de maag?" after an
    answer carry a "niet" but ask about that answer; "nee", "nee hoor?" or
    "nee, liever niet" decline.
    """
    words = _words(text)
    if not text.rstrip().endswith("?") or not words:
        return False
    # "echt niet?", "serieus niet?": doubting the answer, not declining
    return words[0] in _DOUBT_WORD or (
        len(words) >= MIN_QUESTION_WORDS and words[0] not in _NO_WORD
    )
