"""Context: follow_ups in the content file, and resolving elliptical follow-ups."""

from __future__ import annotations

import copy

import pytest
import yaml

from faq.content import FOLLOW_UP_KINDS, ContentError, load_content
from faq.context import (
    KIND_PATTERNS,
    NAMES_SERVICE,
    acknowledgement_topic,
    answer_words,
    asks_what_the_answer_named,
    asks_why,
    echoes_last_answer,
    greeting_topic,
    is_acknowledgement,
    is_closing_no,
    is_elliptical,
    kinds_in,
    nutrient_follow_up,
    questions_rather_than_declines,
    resolve,
)
from tests.helpers import ROOT
from tools.baseline import ConversationState, answer_intent

CONTENT_FILE = ROOT / "content" / "kennisbank.yml"


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(CONTENT_FILE.read_text(encoding="utf-8"))


def topic(data: dict, topic_id: str) -> dict:
    return next(t for t in data["topics"] if t["id"] == topic_id)


# ------------------------------------------------------- the content file


def test_the_real_file_declares_both_directions_of_the_relation(content):
    activates = content.topics["magnesium_activeert_vitamine_d"]
    raises = content.topics["vitamine_d_verhoogt_magnesiumbehoefte"]
    assert activates.follow_ups["omgekeerd"] == raises.id
    assert raises.follow_ups["omgekeerd"] == activates.id
    assert set(KIND_PATTERNS) == set(FOLLOW_UP_KINDS)
    # a kind a topic answers itself keeps the conversation there
    assert content.topics["vitamine_d_zonlicht"].follow_ups["zon"] == (
        "vitamine_d_zonlicht"
    )


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"ergens": "tekort_symptomen"}, "onbekende soort vervolgvraag 'ergens'"),
        ({"tekort": "bestaat_niet"}, "onbekende topic 'bestaat_niet'"),
        ({"tekort": ["tekort_symptomen"]}, "moet naar een topic-id wijzen"),
        ("tekort_symptomen", "moet een mapping zijn"),
    ],
)
def test_a_broken_follow_up_names_file_topic_and_field(change, problem, raw, tmp_path):
    data = copy.deepcopy(raw)
    topic(data, "functie_vitamine_d")["follow_ups"] = change
    path = tmp_path / "kennisbank.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")

    with pytest.raises(ContentError) as error:
        load_content(path)

    message = str(error.value)
    assert str(path) in message and problem in message
    assert error.value.topic == "functie_vitamine_d"
    assert error.value.field == "follow_ups"


def test_follow_ups_are_optional(raw, tmp_path):
    data = copy.deepcopy(raw)
    del topic(data, "vitamine_k2")["follow_ups"]
    path = tmp_path / "kennisbank.yml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert load_content(path).topics["vitamine_k2"].follow_ups == {}


# ------------------------------------------------------------- resolving


@pytest.mark.parametrize(
    "text",
    [
        "en wat als je er te weinig van hebt?",
        "hoe stel je dat dan vast?",
        "geldt dat ook omgekeerd?",
        "en bij ouderen?",
        "kan ik dat ook uit eten halen?",
        "and the other way around?",
    ],
)
def test_elliptical_follow_ups(text):
    assert is_elliptical(text)


@pytest.mark.parametrize(
    "text",
    [
        "wat doet vitamine d in je lichaam",
        "en magnesium?",  # names its subject: the nutrient follow-up handles it
        "hoe lang moet ik in de zon zitten",
        "Mijn moeder is 78 en komt weinig buiten. De huisarts had het over het "
        "tekort dat veel ouderen hebben. Waarom hebben juist ouderen dat vaker?",
        "",
    ],
)
def test_messages_that_stand_alone(text):
    assert not is_elliptical(text)


def test_kinds_come_in_priority_order():
    assert kinds_in("en wat als je er te weinig van hebt?")[:2] == [
        "tekort",
        "gevolgen",
    ]
    assert kinds_in("hoe stel je dat dan vast?") == ["vaststellen"]
    assert kinds_in("geldt dat ook omgekeerd?") == ["omgekeerd"]
    assert kinds_in("oké") == []


@pytest.mark.parametrize(
    ("last", "text", "expected"),
    [
        (
            "functie_vitamine_d",
            "en wat als je er te weinig van hebt?",
            "vitamine_d_tekort_gevolgen",
        ),
        ("tekort_symptomen", "hoe stel je dat dan vast?", "tekort_vaststellen"),
        (
            "magnesium_activeert_vitamine_d",
            "geldt dat ook omgekeerd?",
            "vitamine_d_verhoogt_magnesiumbehoefte",
        ),
        (
            "vitamine_d_verhoogt_magnesiumbehoefte",
            "en andersom?",
            "magnesium_activeert_vitamine_d",
        ),
        ("vitamine_d_zonlicht", "kan ik het ook uit eten halen?", "vitamine_d_voeding"),
        (
            "vitamine_d_voeding",
            "en bij wie komt dat vaak voor?",
            "vitamine_d_tekort_risicogroepen",
        ),
    ],
)
def test_resolve_uses_the_follow_ups_of_the_last_topic(last, text, expected, content):
    resolution = resolve(text, last, content)
    assert resolution is not None and resolution.topic == expected


def test_resolve_needs_a_last_topic_and_an_elliptical_message(content):
    assert resolve("hoe stel je dat dan vast?", None, content) is None
    assert resolve("hoe stel je dat dan vast?", "onbekend", content) is None
    assert (
        resolve("hoe stel je een magnesiumtekort vast", "tekort_symptomen", content)
        is None
    )
    # vitamine_k2 declares nothing for "omgekeerd": the context does not decide
    assert resolve("geldt dat ook omgekeerd?", "vitamine_k2", content) is None


def test_when_unsure_a_related_topic_in_the_ranking_decides(content):
    ranking = [
        ("nlu_fallback", 0.5),
        ("buiten_domein", 0.3),
        ("vitamine_d_zonlicht", 0.2),
        ("vitamine_k2", 0.1),
    ]
    text = "en hoe zit het daar dan mee?"
    assert kinds_in(text) == []
    assert resolve(text, "vitamine_d_voeding", content, ranking) is None
    resolution = resolve(text, "vitamine_d_voeding", content, ranking, unsure=True)
    assert resolution is not None and resolution.topic == "vitamine_d_zonlicht"
    assert resolution.kind is None
    assert resolve(text, "tekort_vaststellen", content, ranking, unsure=True) is None


def test_the_nutrient_follow_up(content):
    topics = content.topics
    # the counterpart the content file names
    assert nutrient_follow_up(topics["vitamine_d_voeding"], "magnesium") == (
        "magnesium_voeding"
    )
    # a topic about both nutrients stays
    assert nutrient_follow_up(topics["tekort_vaststellen"], "magnesium") == (
        "tekort_vaststellen"
    )
    # otherwise, and without a last topic, the nutrient's default topic
    assert nutrient_follow_up(topics["tekort_vaststellen"], "vitamine_k2") == (
        "vitamine_k2"
    )
    assert nutrient_follow_up(None, "vitamine_d") == "functie_vitamine_d"


@pytest.mark.parametrize(
    "text",
    [
        "en waarom ook magnesium erbij?",
        "En waarom moet er dan ook magnesium bij?",
        "why do I need magnesium with it too?",
    ],
)
def test_why_a_nutrient_goes_with_vitamin_d_is_the_article_s_answer(content, text):
    supplements = content.topics["vitamine_d_supplementen"]
    assert nutrient_follow_up(supplements, "magnesium", text) == (
        "magnesium_activeert_vitamine_d"
    )
    assert nutrient_follow_up(supplements, "vitamine_k2", text) == "vitamine_k2"


def test_a_nutrient_alone_still_goes_to_the_counterpart(content):
    supplements = content.topics["vitamine_d_supplementen"]
    # no why, or a why without adding it: the counterpart as before
    assert nutrient_follow_up(supplements, "magnesium", "en magnesium?") == (
        "magnesium_vormen"
    )
    assert nutrient_follow_up(supplements, "magnesium", "waarom magnesium?") == (
        "magnesium_vormen"
    )


# ------------------------------------------------ echoing the last answer


def test_answer_words_hold_each_topic_s_answers_and_the_sources(content):
    words = answer_words(content)
    assert set(words) == set(content.topics)
    assert "koffie" in words["magnesium_voeding"]
    # the source list's citations and summaries belong to its answer
    assert "covid" in words["bronnen"]
    assert all(len(w) >= 4 for known in words.values() for w in known)


@pytest.mark.parametrize(
    "text, last",
    [
        ("en koffie?", "magnesium_voeding"),
        ("en alcohol dan?", "magnesium_voeding"),
        ("koffie maakt t erger?", "magnesium_voeding"),
        ("en over nierziektes?", "bronnen"),
        ("zit covid er ook in?", "bronnen"),
    ],
)
def test_a_short_message_taking_up_a_word_of_the_last_answer_echoes_it(
    content, text, last
):
    topic = content.topics[last]
    assert echoes_last_answer(text, topic, content)
    # the NLU could not place it (or refused it): the context keeps the topic
    assert resolve(text, last, content, unsure=True).topic == last
    assert resolve(text, last, content, refused=True).topic == last


@pytest.mark.parametrize(
    "text, last",
    [
        # a word that half the answers contain says nothing
        ("en vitamine?", "magnesium_voeding"),
        ("en het lichaam?", "functie_vitamine_d"),
        # a word the last answer does not contain
        ("en sint-janskruid?", "vitamine_d_tekort_gevolgen"),
        ("en koffie?", "vitamine_d_zonlicht"),
        # too long to be a follow-up
        (
            "ik drink heel veel koffie op mijn werk, is dat eigenlijk slecht?",
            "magnesium_voeding",
        ),
    ],
)
def test_no_echo_without_a_distinctive_word_of_the_last_answer(content, text, last):
    assert not echoes_last_answer(text, content.topics[last], content)


def test_an_echo_does_not_overrule_a_confident_nlu(content):
    # only an unsure or refused message is kept on the last topic by an echo
    assert resolve("en koffie?", "magnesium_voeding", content) is None


@pytest.mark.parametrize(
    "text",
    [
        "en welke gaat over de zon?",
        "welke is de belangrijkste?",
        "en over covid?",
        "zit er ook een trial tussen?",
    ],
)
def test_after_the_source_list_which_source_stays_there(content, text):
    ranking = [("vitamine_d_zonlicht", 0.9)]
    assert resolve(text, "bronnen", content, ranking).topic == "bronnen"


@pytest.mark.parametrize(
    "text",
    [
        "en hoe stel je een tekort vast?",
        "welke vorm magnesium is het best?",
        "welke klachten geeft een tekort?",
    ],
)
def test_a_new_question_after_the_source_list_is_no_source_question(content, text):
    assert resolve(text, "bronnen", content) is None


def test_when_unsure_a_bare_follow_up_stays_on_the_last_topic(content):
    ranking = [("nlu_fallback", 0.4), ("vitamine_d_zonlicht", 0.3)]
    resolution = resolve("is dat genoeg?", "vitamine_d_voeding", content, ranking, True)
    assert resolution is not None and resolution.topic == "vitamine_d_voeding"
    # the last topic among the top three wins over a related one ranked higher
    ranking = [
        ("nlu_fallback", 0.45),
        ("vitamine_d_supplementen", 0.2),
        ("vitamine_d_zonlicht", 0.1),
    ]
    text = "en in de zomer, lukt dat dan wel goed?"
    assert kinds_in(text) == ["zon"]
    resolution = resolve(text, "vitamine_d_voeding", content, ranking, True)
    assert resolution is not None and resolution.topic == "vitamine_d_zonlicht"
    text = "en hoe lukt dat dan eigenlijk precies?"
    assert kinds_in(text) == []
    resolution = resolve(text, "vitamine_d_zonlicht", content, ranking, True)
    assert resolution is not None and resolution.topic == "vitamine_d_zonlicht"


def test_an_off_domain_guess_yields_to_the_last_topic_only_when_it_ranks_high(
    content,
):
    text = "is het echt een hormoon?"
    ranking = [("buiten_domein", 0.7), ("functie_vitamine_d", 0.2), ("groet", 0.1)]
    assert resolve(text, "functie_vitamine_d", content, ranking) is None
    resolution = resolve(text, "functie_vitamine_d", content, ranking, refused=True)
    assert resolution is not None and resolution.topic == "functie_vitamine_d"
    far = [
        ("buiten_domein", 0.9),
        ("vitamine_k2", 0.04),
        ("bronnen", 0.03),
        ("functie_vitamine_d", 0.02),
    ]
    assert (
        resolve("hoe laat is het?", "functie_vitamine_d", content, far, refused=True)
        is None
    )


@pytest.mark.parametrize(
    ("last", "text", "expected"),
    [
        ("vitamine_d_zonlicht", "en in de winter?", "vitamine_d_zonlicht"),
        ("functie_vitamine_d", "en in de herfst?", "vitamine_d_tekort_risicogroepen"),
        (
            "magnesium_voeding",
            "waarom krijgen veel mensen er te weinig van binnen?",
            "magnesium_voeding",
        ),
        (
            "functie_vitamine_d",
            "waar kan je het nog meer uit halen behalve de zon?",
            "vitamine_d_voeding",
        ),
        (
            "magnesium_activeert_vitamine_d",
            "waar gebeurt dat in je lichaam?",
            "magnesium_activeert_vitamine_d",
        ),
        ("vitamine_d_zonlicht", "wa moet ge dan doen?", "vitamine_d_supplementen"),
    ],
)
def test_round_two_kinds(last, text, expected, content):
    resolution = resolve(text, last, content)
    assert resolution is not None and resolution.topic == expected


def test_zonder_is_no_sun():
    assert "zon" not in kinds_in("en zonder magnesium?")


@pytest.mark.parametrize(
    ("last", "text", "expected"),
    [
        # a why-question explains the last answer, even when it names a kind
        ("samenwerking_mg_d", "en waarom is dat evenwicht zo belangrijk?", None),
        (
            "magnesium_voeding",
            "maar waarom hebben zoveel mensen er te weinig van?",
            None,
        ),
        # ... unless it names a route or the other direction
        ("vitamine_d_supplementen", "waarom dan niet gewoon via de zon?", "zon"),
        ("magnesium_activeert_vitamine_d", "waarom geldt dat ook andersom?", "omg"),
        # a remedy comes before the problem it names, a named route before both
        ("functie_vitamine_d", "hoe voorkom je zo'n tekort?", "vitamine_d_zonlicht"),
        (
            "vitamine_d_zonlicht",
            "maar wat als dat niet lukt?",
            "vitamine_d_supplementen",
        ),
        ("vitamine_d_tekort_risicogroepen", "hoe voorkom je dat, met eten?", "voed"),
        ("functie_vitamine_d", "hoe kom ik daar dan aan?", "vitamine_d_zonlicht"),
        ("vitamine_d_zonlicht", "what can you do then?", "vitamine_d_supplementen"),
        # the split verb of "aanvullen", and who helps to find out
        ("magnesium_voeding", "hoe vul ik dat aan?", "magnesium_vormen"),
        ("tekort_symptomen", "wie kan me daarmee helpen?", "tekort_vaststellen"),
        (
            "tekort_symptomen",
            "wie zou me daar dan wel bij helpen?",
            "tekort_vaststellen",
        ),
    ],
)
def test_why_remedy_and_route_follow_ups(last, text, expected, content):
    short = {
        None: last,
        "zon": "vitamine_d_zonlicht",
        "omg": "vitamine_d_verhoogt_magnesiumbehoefte",
        "voed": "vitamine_d_voeding",
    }
    resolution = resolve(text, last, content)
    assert resolution is not None
    assert resolution.topic == short.get(expected, expected)


@pytest.mark.parametrize(
    "text", ["ok", "oké top", "ok snap ik", "helder!", "oke, duidelijk", "klopt"]
)
def test_bare_acknowledgements(text):
    assert is_acknowledgement(text)


@pytest.mark.parametrize(
    "text", ["ja", "ja graag", "ok doe maar", "ok, vertel meer", "oké en de zon?", ""]
)
def test_a_yes_or_a_question_is_no_acknowledgement(text):
    assert not is_acknowledgement(text)


def test_a_no_that_closes_versus_one_that_declines():
    assert is_closing_no("nee hoor, dank je")
    assert is_closing_no("nee, is goed zo")
    assert not is_closing_no("nee")
    assert not is_closing_no("nee laat maar")


def test_an_acknowledgement_with_a_goodbye_ends_the_conversation():
    assert acknowledgement_topic("oké doei") == "afscheid"
    assert acknowledgement_topic("ok top") == "bedankt"
    assert acknowledgement_topic("doei") is None  # the NLU knows plain goodbyes


def test_a_question_about_who_asks_for_the_risk_groups(content):
    text = "en wie heeft er dan het vaakst een tekort?"
    assert kinds_in(text)[0] == "risico"
    resolution = resolve(text, "vitamine_d_zonlicht", content)
    assert resolution is not None
    assert resolution.topic == "vitamine_d_tekort_risicogroepen"
    # a shortage that names who keeps its own priority
    assert kinds_in("kinderen met een tekort?")[0] == "tekort"


def test_a_bare_why_not_stays_on_the_last_topic_when_the_nlu_is_unsure(content):
    ranking = [("nlu_fallback", 0.45), ("meer", 0.44), ("ontkennen", 0.4)]
    resolution = resolve(
        "waarom dan niet?", "vitamine_d_voeding", content, ranking, True
    )
    assert resolution is not None and resolution.topic == "vitamine_d_voeding"


# ------------------------------------------------------------------ round 6


@pytest.mark.parametrize(
    ("last", "text", "expected"),
    [
        # a short question about one side, no pointing back
        (
            "vitamine_d_tekort_risicogroepen",
            "wat kunnen de gevolgen zijn?",
            "vitamine_d_tekort_gevolgen",
        ),
        # typos, Flemish, English and sunscreen wording of the kinds
        ("vitamine_d_tekort_gevolgen", "en welke klahten dan?", "tekort_symptomen"),
        (
            "vitamine_d_tekort_gevolgen",
            "and in kids?",
            "vitamine_d_tekort_risicogroepen",
        ),
        (
            "vitamine_d_zonlicht",
            "en as ge donker van huid zijt?",
            "vitamine_d_tekort_risicogroepen",
        ),
        ("functie_vitamine_d", "en als ge u insmeert?", "vitamine_d_zonlicht"),
        ("magnesium_voeding", "en als je dat niet lust?", "magnesium_vormen"),
        ("magnesium_voeding", "via de huit kan ook?", "magnesium_vormen"),
        # "who is short" after the overview: the risk groups
        (
            "samenwerking_mg_d",
            "wie hebben er vaak een tekort aan?",
            "vitamine_d_tekort_risicogroepen",
        ),
        # where it is made: how the last topic works
        (
            "magnesium_activeert_vitamine_d",
            "waar wordt dat gemaakt?",
            "magnesium_activeert_vitamine_d",
        ),
        # "dus ook als …": whether the last answer still holds
        (
            "magnesium_activeert_vitamine_d",
            "dus ook als je supplementen slikt?",
            "magnesium_activeert_vitamine_d",
        ),
    ],
)
def test_round_six_kinds(last, text, expected, content):
    resolution = resolve(text, last, content)
    assert resolution is not None and resolution.topic == expected


def test_blood_pressure_and_vessels_are_no_blood_test():
    assert "vaststellen" not in kinds_in("en bloeddruk?")
    assert "vaststellen" not in kinds_in("en de bloedvaten?")
    assert "vaststellen" in kinds_in("via een bloedtest?")


def test_a_bare_kind_question_needs_a_relation_and_no_subject(content):
    # the last topic relates no topic to its kind: the NLU decides
    assert "klachten" not in content.topics["vitamine_k2"].follow_ups
    assert resolve("wat zijn de klachten?", "vitamine_k2", content) is None
    # a subject of its own: not about the last topic
    text = "welke klachten geeft ijzertekort?"
    assert resolve(text, "functie_vitamine_d", content) is None
    text = "wat doet vitamine D bij klachten?"
    assert resolve(text, "functie_vitamine_d", content) is None


def test_a_refused_message_that_points_back_stays_with_the_last_topic(content):
    far = [("buiten_domein", 0.9), ("vitamine_k2", 0.05), ("bronnen", 0.05)]
    resolution = resolve(
        "wat is het verschil tussen die twee?",
        "magnesium_vormen",
        content,
        far,
        refused=True,
    )
    assert resolution is not None and resolution.topic == "magnesium_vormen"
    # "het" alone does not point back ("hoe laat is het?"), nor does a subject
    assert (
        resolve("hoe laat is het?", "magnesium_vormen", content, far, refused=True)
        is None
    )
    assert (
        resolve("en ijzer dan?", "magnesium_vormen", content, far, refused=True) is None
    )


# ------------------------------------------------------------------ round 7


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        ("oke laat maar, doei", "afscheid"),
        ("ok ty, doeii", "afscheid"),
        ("Da's duidelijk, salukes", "afscheid"),
        ("good to know, ta", "bedankt"),
        ("ok laat maar, bedankt", "bedankt"),
    ],
)
def test_round_seven_closings(text, topic):
    assert acknowledgement_topic(text) == topic


@pytest.mark.parametrize(
    "text",
    [
        "Hoofdpijn ook?",
        "nierstenen? echt?",
        "Zeewier? Serieus?",
        "met korte mouwen ook goed?",
    ],
)
def test_a_reaction_to_the_last_answer_leans_on_it(text):
    assert is_elliptical(text)


def test_round_seven_kinds():
    assert "vaststellen" not in kinds_in("prikt dat niet op je huid?")
    assert "vaststellen" in kinds_in("kan je bloed laten prikken?")
    assert "vaststellen" in kinds_in("hoe kom je er dan achter welke het is?")
    # a herb is a subject of its own, not a follow-up
    assert not is_elliptical("en sint-janskruid, helpt dat?")


def test_complaints_how_to_find_out_and_causes(content):
    after_function = resolve(
        "en als je altijd moe bent, kan dat een tekort zijn?",
        "functie_vitamine_d",
        content,
    )
    assert after_function is not None
    assert after_function.topic == "tekort_symptomen"
    found = resolve("hoe zoek je dat uit?", "tekort_symptomen", content)
    assert found is not None and found.topic == "tekort_vaststellen"
    # the cause of what was just said stays with it
    cause = resolve(
        "waardoor ontstaat zo'n tekort dan?",
        "vitamine_d_tekort_ondanks_magnesium",
        content,
    )
    assert cause is not None
    assert cause.topic == "vitamine_d_tekort_ondanks_magnesium"


def test_an_unsure_message_stays_when_the_nlu_liked_the_last_topic_best(content):
    # refused, but of the content topics the forms ranked first
    ranking = [("buiten_domein", 0.51), ("magnesium_vormen", 0.39), ("groet", 0.03)]
    text = "what's glycinate good for?"
    resolution = resolve(text, "magnesium_vormen", content, ranking, refused=True)
    assert resolution.topic == "magnesium_vormen"
    # not when another topic ranked higher, nor with a weak preference
    assert resolve(text, "vitamine_d_zonlicht", content, ranking, refused=True) is None
    weak = [("buiten_domein", 0.9), ("magnesium_vormen", 0.05)]
    assert resolve(text, "magnesium_vormen", content, weak, refused=True) is None
    # nor when it names another subject
    other = "en wat doet zink voor je botten dan eigenlijk?"
    assert resolve(other, "magnesium_vormen", content, ranking, refused=True) is None


def test_a_flemish_who_question_asks_about_the_risk_groups():
    text = "Allez, wie heeft er dan 't meeste last van nen tekort?"
    assert kinds_in(text)[0] == "risico"


@pytest.mark.parametrize(
    "text",
    [
        "dus meer slikken helpt niet?",
        "dus zonder magnesium werkt je supplement niet?",
        "so it doesn't work without magnesium?",
        # less rather than not at all
        "dus een pil doet dan minder?",
        "so the tablets work less well then?",
    ],
)
def test_a_check_of_the_last_answer_s_conclusion_stays_there(content, text):
    resolution = resolve(text, "magnesium_activeert_vitamine_d", content)
    assert resolution.topic == "magnesium_activeert_vitamine_d"


def test_a_so_question_without_a_negation_may_go_elsewhere(content):
    # "dus dan maar pillen?" after the food asks about the supplements
    resolution = resolve("dus dan maar pillen?", "vitamine_d_voeding", content)
    assert resolution.topic == "vitamine_d_supplementen"


def test_how_it_works_after_k2_is_about_k2(content):
    resolution = resolve("hoe werkt dat dan precies?", "vitamine_k2", content)
    assert resolution.topic == "vitamine_k2"


def test_a_compound_of_a_nutrient_may_echo_the_last_answer(content):
    topic = content.topics["disbalans_mg_d"]
    assert "magnesiumuitputting" in answer_words(content)["disbalans_mg_d"]
    assert echoes_last_answer("magnesiumuitputting?", topic, content)
    # the nutrient alone does not
    assert not echoes_last_answer("magnesium?", topic, content)


def test_blood_sugar_is_no_blood_test():
    assert "vaststellen" not in kinds_in("en bloedsuiker?")


def test_an_english_why_fragment_leans_on_the_last_answer(content):
    assert is_elliptical("how come")
    resolution = resolve(
        "how come", "vitamine_d_verhoogt_magnesiumbehoefte", content, refused=True
    )
    assert resolution.topic == "vitamine_d_verhoogt_magnesiumbehoefte"


def test_thanks_and_a_goodbye_joined_by_en_is_a_goodbye():
    assert acknowledgement_topic("merci en salu") == "afscheid"


@pytest.mark.parametrize(
    "last, text, expected",
    [
        # round 10 kinds: the long run is a consequence, telling apart is
        # finding out, who does it after the test, "the other part" reverses
        ("tekort_symptomen", "en op den duur?", "vitamine_d_tekort_gevolgen"),
        (
            "tekort_symptomen",
            "hoe weet je welk van de twee het is, onderscheid?",
            "tekort_vaststellen",
        ),
        ("tekort_vaststellen", "wie mag dat afnemen?", "tekort_vaststellen"),
        (
            "magnesium_activeert_vitamine_d",
            "en de andere helft van het verhaal?",
            "vitamine_d_verhoogt_magnesiumbehoefte",
        ),
        # what to do in those months, a pill: the supplements
        (
            "vitamine_d_zonlicht",
            "wat moet je in die periode dan?",
            "vitamine_d_supplementen",
        ),
        ("vitamine_d_voeding", "dus dan maar pilletjes?", "vitamine_d_supplementen"),
        # keeping both up after the imbalance: the balance of the two
        ("disbalans_mg_d", "en hoe hou je dat op peil?", "samenwerking_mg_d"),
        # how bad it is, after a shortage despite magnesium
        (
            "vitamine_d_tekort_ondanks_magnesium",
            "is dat dan erg?",
            "vitamine_d_tekort_gevolgen",
        ),
        # round 12: "what then", "otherwise", "if that is not enough" ask for
        # a remedy; who judges it after the test finds out
        ("vitamine_d_zonlicht", "en wat dan wel?", "vitamine_d_supplementen"),
        ("vitamine_d_voeding", "of anders?", "vitamine_d_supplementen"),
        ("magnesium_voeding", "en als dat nie genoeg is?", "magnesium_vormen"),
        ("tekort_vaststellen", "wie kan dat inschatten?", "tekort_vaststellen"),
        # round 13: Flemish pills, English questions about how it works, "if
        # you don't take it" is a consequence; too little magnesium after the
        # activation is the activation itself (vitamin D stays inactive)
        ("vitamine_d_zonlicht", "dus dan maar een pilleke?", "vitamine_d_supplementen"),
        ("functie_vitamine_d", "made from what exactly?", "functie_vitamine_d"),
        (
            "magnesium_activeert_vitamine_d",
            "in which organs?",
            ("magnesium_activeert_vitamine_d"),
        ),
        ("vitamine_k2", "en as ge die ni pakt?", "vitamine_k2"),
        (
            "magnesium_activeert_vitamine_d",
            "en als je er te weinig van hebt?",
            ("magnesium_activeert_vitamine_d"),
        ),
        # round 14: English food words, "then what?", "made in the skin",
        # Flemish "wat kunt ge dan best doen", "tot wanneer?" as a fragment
        ("vitamine_d_zonlicht", "and salmon?", "vitamine_d_voeding"),
        ("vitamine_d_voeding", "ok, then what?", "vitamine_d_supplementen"),
        ("functie_vitamine_d", "so it is made in the skin?", "functie_vitamine_d"),
        (
            "vitamine_d_zonlicht",
            "wat kunt ge dan het best doen?",
            ("vitamine_d_supplementen"),
        ),
        # round 15: "if that does not work (in winter)", "if food is not
        # enough" with words in between still ask for a remedy
        (
            "vitamine_d_zonlicht",
            "en als het in de donkere maanden niet lukt?",
            "vitamine_d_supplementen",
        ),
        ("magnesium_voeding", "als eten alleen niet genoeg is?", "magnesium_vormen"),
        # who to have it done by; a typo for the other way round; English
        # "what does it look like", "if X isn't enough"; keeping both in
        # balance is their balance; the kidneys are where it is activated
        ("tekort_vaststellen", "bij wie ga je daarvoor?", "tekort_vaststellen"),
        (
            "magnesium_activeert_vitamine_d",
            "en ander om dan?",
            "vitamine_d_verhoogt_magnesiumbehoefte",
        ),
        ("samenwerking_mg_d", "how does a shortage look like?", "tekort_symptomen"),
        ("magnesium_voeding", "and if my diet is not enough?", "magnesium_vormen"),
        ("disbalans_mg_d", "hoe hou je die twee in evenwicht?", "samenwerking_mg_d"),
        ("samenwerking_mg_d", "en de lever dan?", "magnesium_activeert_vitamine_d"),
    ],
)
def test_kinds_from_rounds_ten_to_fourteen(last, text, expected, content):
    resolution = resolve(text, last, content)
    assert resolution is not None and resolution.topic == expected


def test_a_check_of_what_the_answer_said_about_both_stays_there(content):
    for text in (
        "dus weinig van het ene betekent weinig van het andere?",
        "so low levels of one mean low levels of the other?",
    ):
        resolution = resolve(text, "samenwerking_mg_d", content)
        assert resolution is not None and resolution.topic == "samenwerking_mg_d"


def test_the_nlu_chooses_among_the_topics_of_several_kinds(content):
    text = "en somberheid door een tekort?"  # klachten and tekort
    sure = [("vitamine_d_tekort_gevolgen", 0.7), ("tekort_symptomen", 0.2)]
    chosen = resolve(text, "functie_vitamine_d", content, sure)
    assert chosen.topic == "vitamine_d_tekort_gevolgen"
    # unsure, the first kind decides
    unsure = [("vitamine_d_tekort_gevolgen", 0.3), ("tekort_symptomen", 0.2)]
    first = resolve(text, "functie_vitamine_d", content, unsure)
    assert first.topic == "tekort_symptomen"


def test_a_why_question_the_nlu_places_in_a_related_topic_goes_there(content):
    text = "en waarom werkt het dan nog niet meteen?"
    sure = [("magnesium_activeert_vitamine_d", 0.8), ("meer", 0.1)]
    assert resolve(text, "functie_vitamine_d", content, sure) is None
    # an unrelated or unsure topic does not take it from the last answer
    unrelated = [("magnesium_vormen", 0.8)]
    kept = resolve(text, "functie_vitamine_d", content, unrelated)
    assert kept.topic == "functie_vitamine_d"
    weak = [("magnesium_activeert_vitamine_d", 0.4)]
    assert resolve(text, "functie_vitamine_d", content, weak).topic == (
        "functie_vitamine_d"
    )


def test_also_the_other_nutrient_stays_with_an_answer_about_both(content):
    # the symptoms and the risk groups cover both nutrients (no counterparts)
    for last, text in (
        ("tekort_symptomen", "zou het ook magnesium kunnen zijn?"),
        ("vitamine_d_tekort_risicogroepen", "lopen die ook risico op te weinig vit d?"),
    ):
        assert resolve(text, last, content).topic == last, text
    # "en bij …": the same question for the other nutrient or the other case
    for last, text in (
        ("disbalans_mg_d", "en bij weinig magnesium maar genoeg D?"),
        ("tekort_symptomen", "and for low magnesium?"),
    ):
        assert resolve(text, last, content).topic == last, text
    # after an answer with a counterpart for the other nutrient, and when
    # another kind is asked, the rule does not keep it: the nutrient's own
    # follow-up (nutrient_follow_up) or the NLU decides
    assert resolve("ook magnesium?", "vitamine_d_voeding", content) is None
    food = "en welk eten heeft ook magnesium?"
    assert resolve(food, "tekort_symptomen", content) is None


def test_a_request_for_the_gist_stays_with_the_last_answer(content):
    for text in ("tldr", "kun je dat kort samenvatten?", "in a nutshell?"):
        assert resolve(text, "disbalans_mg_d", content).topic == "disbalans_mg_d"


def test_round_sixteen_kinds_and_conditions(content):
    # Flemish "wa dan?", doubt is for a test, a walk is the sun, "even with"
    # asks whether the last answer holds; the reverse after both directions
    cases = [
        (
            "vitamine_d_voeding",
            "en als ge da ni lust, wa dan?",
            "vitamine_d_supplementen",
        ),
        ("tekort_symptomen", "en bij twijfel?", "tekort_vaststellen"),
        ("vitamine_d_tekort_risicogroepen", "en een wandeling?", "vitamine_d_zonlicht"),
        (
            "magnesium_activeert_vitamine_d",
            "so even with pills it stays inactive?",
            "magnesium_activeert_vitamine_d",
        ),
        (
            "samenwerking_mg_d",
            "en andersom?",
            "vitamine_d_verhoogt_magnesiumbehoefte",
        ),
    ]
    for last, text, expected in cases:
        assert resolve(text, last, content).topic == expected, text


def test_an_unsure_advice_reading_of_a_word_just_said(content):
    last = content.topics["magnesium_voeding"]
    unsure = [("persoonlijk_advies", 0.7)]
    assert asks_what_the_answer_named("ook medicijnen?", last, content, unsure)
    sure = [("persoonlijk_advies", 0.9)]
    assert not asks_what_the_answer_named("ook medicijnen?", last, content, sure)
    assert not asks_what_the_answer_named("ik slik medicijnen", last, content, unsure)
    long = "welke medicijnen verhogen precies de behoefte aan magnesium?"
    assert not asks_what_the_answer_named(long, last, content, unsure)


def test_research_behind_it_is_no_test_to_find_out():
    assert "vaststellen" not in kinds_in("zit daar wetenschap achter?")
    assert "vaststellen" in kinds_in("hoe kom je daar dan achter?")


def test_the_month_asked_is_the_season():
    assert "seizoen" in kinds_in("tot welke maand ongeveer?")


def test_an_nlu_sure_of_the_last_topic_outweighs_the_kind(content):
    text = "en mensen die bijna nooit buiten komen?"  # "buiten": the sun
    sure = [("vitamine_d_tekort_risicogroepen", 0.9), ("vitamine_d_zonlicht", 0.05)]
    kept = resolve(text, "vitamine_d_tekort_risicogroepen", content, sure)
    assert kept.topic == "vitamine_d_tekort_risicogroepen"
    # less sure, the kind leads to the sun
    fair = [("vitamine_d_tekort_risicogroepen", 0.6), ("vitamine_d_zonlicht", 0.3)]
    moved = resolve(text, "vitamine_d_tekort_risicogroepen", content, fair)
    assert moved.topic == "vitamine_d_zonlicht"


def test_a_sure_refusal_is_not_kept_by_a_bare_and(content):
    text = "en hoeveel uur slaap heb je nodig?"
    sure = [("buiten_domein", 0.95)]
    assert resolve(text, "vitamine_k2", content, sure, refused=True) is None
    unsure = [("buiten_domein", 0.6)]
    kept = resolve(text, "vitamine_k2", content, unsure, refused=True)
    assert kept is not None and kept.topic == "vitamine_k2"


def test_a_sure_refusal_of_a_full_question_is_not_kept_by_an_echo(content):
    # round 18: "koffie" is in the answer, but the question asks about coffee
    text = "en hoeveel koffie per dag is gezond?"
    sure = [("buiten_domein", 0.94), ("magnesium_voeding", 0.02)]
    assert resolve(text, "magnesium_voeding", content, sure, refused=True) is None
    unsure = [("buiten_domein", 0.6), ("magnesium_voeding", 0.1)]
    kept = resolve(text, "magnesium_voeding", content, unsure, refused=True)
    assert kept is not None and kept.topic == "magnesium_voeding"
    # a bare echo is elliptical and stays, however sure the refusal
    bare = resolve("en koffie?", "magnesium_voeding", content, sure, refused=True)
    assert bare is not None and bare.topic == "magnesium_voeding"


def test_an_english_as_well_reacts_to_the_last_answer(content):
    resolution = resolve(
        "the kidneys as well?",
        "vitamine_k2",
        content,
        [("buiten_domein", 0.8)],
        refused=True,
    )
    assert resolution is not None and resolution.topic == "vitamine_k2"


def test_why_it_goes_with_vitamin_d_after_k2_stays_with_k2(content):
    k2 = content.topics["vitamine_k2"]
    assert nutrient_follow_up(k2, "vitamine_d", "waarom hoort dat bij vitamine D?") == (
        "vitamine_k2"
    )
    # without why, vitamin D after K2 is the supplements
    assert nutrient_follow_up(k2, "vitamine_d", "en vitamine D?") == (
        "vitamine_d_supplementen"
    )


def test_an_also_question_about_a_word_of_the_last_answer_stays(content):
    # the consequences name low mood; the kind word would lead to complaints
    for text in ("ook somberheid?", "en somberheid ook?", "somberheid ook echt?"):
        resolution = resolve(text, "vitamine_d_tekort_gevolgen", content)
        assert resolution.topic == "vitamine_d_tekort_gevolgen"
    # a word the last answer does not hold still follows its kind
    other = resolve("ook kramp?", "vitamine_d_tekort_gevolgen", content)
    assert other.topic == "tekort_symptomen"


def test_what_then_asks_for_a_remedy(content):
    resolution = resolve(
        "en als het bewolkt is, wat dan?", "vitamine_d_zonlicht", content
    )
    assert resolution.topic == "vitamine_d_supplementen"


def test_a_refused_fragment_ending_in_then_stays_with_the_last_topic(content):
    refused = [("buiten_domein", 0.7)]
    resolution = resolve("hoe lang dan", "magnesium_vormen", content, refused, True)
    assert resolution is not None and resolution.topic == "magnesium_vormen"
    # a longer message with a subject of its own is no fragment
    longer = "hoe laat gaat de winkel open dan"
    assert resolve(longer, "magnesium_vormen", content, refused, refused=True) is None


def test_the_first_part_of_a_compound_of_the_answer_echoes_it(content):
    imbalance = content.topics["disbalans_mg_d"]
    assert echoes_last_answer("hartritme??", imbalance, content)
    # too short a part does not
    assert not echoes_last_answer("hart?", imbalance, content)


def test_a_nutrient_added_to_an_answer_that_names_it_stays_there(content):
    supplements = content.topics["vitamine_d_supplementen"]
    # the supplements' answer says to take magnesium with them
    assert nutrient_follow_up(supplements, "magnesium", "en magnesium erbij?") == (
        "vitamine_d_supplementen"
    )
    assert nutrient_follow_up(supplements, "magnesium", "and with magnesium?") == (
        "vitamine_d_supplementen"
    )
    # without adding it, the counterpart: the forms of magnesium
    assert nutrient_follow_up(supplements, "magnesium", "en magnesium?") == (
        "magnesium_vormen"
    )
    # K2's answer does not name magnesium: its counterpart
    k2 = content.topics["vitamine_k2"]
    assert nutrient_follow_up(k2, "magnesium", "en magnesium erbij?") == (
        "magnesium_vormen"
    )


def test_the_risk_groups_cover_both_nutrients(content):
    # the answer names the groups at risk of both shortages
    risk = content.topics["vitamine_d_tekort_risicogroepen"]
    assert "magnesium" in risk.short
    assert nutrient_follow_up(risk, "magnesium", "en voor magnesium?") == (
        "vitamine_d_tekort_risicogroepen"
    )


def test_chat_spellings_of_thanks_are_thanks():
    for text in ("oke thnx", "ok thanx", "top tx"):
        assert acknowledgement_topic(text) == "bedankt"


def test_thanks_then_what_the_visitor_will_do_is_thanks():
    for text in (
        "top, bedankt! ik ga het eens met de apotheker bespreken",
        "thank you, i'll read up on it",
        "merci, dan kijk ik wel verder",
    ):
        assert acknowledgement_topic(text) == "bedankt", text
    # a question after the thanks is a question
    assert acknowledgement_topic("bedankt, ik vraag me af: hoe zit het met K2?") is None


def test_a_bare_and_about_a_word_of_the_last_answer_stays(content):
    # the consequences name low mood; "en kramp?" names none of their words
    resolution = resolve("en somberheid?", "vitamine_d_tekort_gevolgen", content)
    assert resolution.topic == "vitamine_d_tekort_gevolgen"
    other = resolve("en kramp?", "vitamine_d_tekort_gevolgen", content)
    assert other.topic == "tekort_symptomen"
    # "en andersom?" reverses, though the answer says "andersom"
    reverse = resolve("en andersom?", "vitamine_d_verhoogt_magnesiumbehoefte", content)
    assert reverse.topic == "magnesium_activeert_vitamine_d"


def test_a_refused_bare_question_word_stays_with_the_last_topic(content):
    refused = [("buiten_domein", 0.7)]
    resolution = resolve("hoe?", "magnesium_vormen", content, refused, refused=True)
    assert resolution is not None and resolution.topic == "magnesium_vormen"
    # a sure refusal of a word that is no question word does not
    assert resolve("voetbal?", "magnesium_vormen", content, refused, True) is None


def test_the_difference_between_those_two_is_about_the_last_answer(content):
    sure_elsewhere = [("samenwerking_mg_d", 0.8)]
    text = "wat is nu het verschil tussen die twee?"
    resolution = resolve(text, "magnesium_vormen", content, sure_elsewhere)
    assert resolution is not None and resolution.topic == "magnesium_vormen"
    # which of the two one has is still a question of finding out
    found = resolve(
        "hoe weet ik welke van de twee het is?", "tekort_symptomen", content
    )
    assert found.topic == "tekort_vaststellen"


def test_a_sure_nlu_chooses_among_the_kinds_of_a_bare_kind_question(content):
    text = "citraat of glycinaat tegen kramp?"  # vorm and klachten
    sure = [("magnesium_vormen", 0.9)]
    assert resolve(text, "magnesium_vormen", content, sure).topic == (
        "magnesium_vormen"
    )
    # unsure, the first kind (the complaints) decides
    unsure = [("magnesium_vormen", 0.3)]
    assert resolve(text, "magnesium_vormen", content, unsure).topic == (
        "tekort_symptomen"
    )


def test_short_fragments_lean_on_the_last_answer(content):
    assert is_elliptical("tot wanneer?")
    refused = [("buiten_domein", 0.6)]
    resolution = resolve("how so?", "magnesium_vormen", content, refused, True)
    assert resolution is not None and resolution.topic == "magnesium_vormen"


@pytest.mark.parametrize(
    "text, last, topic",
    [
        ("dag!", "vitamine_k2", "afscheid"),
        ("oké interessant. dag!", "tekort_symptomen", "afscheid"),
        ("dag hé", "magnesium_voeding", "afscheid"),
        ("daag", "bronnen", "afscheid"),
        ("dag!", None, "groet"),  # the opening "dag" greets
        ("hallo", "vitamine_k2", "groet"),
        ("goedendag", "vitamine_k2", "groet"),
        ("dag, ik heb nog een vraag", "vitamine_k2", "groet"),
    ],
)
def test_a_closing_dag_after_an_answer_says_goodbye(text, last, topic):
    assert greeting_topic(text, last) == topic


# ------------------------------------------------------------------ round 18


@pytest.mark.parametrize(
    "text, last, topic",
    [
        # a conclusion that the supplement does nothing checks the answer
        (
            "dus dan heb je niks aan je supplement?",
            "magnesium_activeert_vitamine_d",
            "magnesium_activeert_vitamine_d",
        ),
        # "en X wel?" after an answer about both nutrients: the same answer
        ("en vitamine D wel?", "tekort_vaststellen", "tekort_vaststellen"),
        ("en van vitamine d?", "tekort_symptomen", "tekort_symptomen"),
        # not going outside makes the sun fail: the remedy
        (
            "en als je niet buiten komt?",
            "vitamine_d_zonlicht",
            "vitamine_d_supplementen",
        ),
        (
            "wat is dan een alternatief",
            "vitamine_d_zonlicht",
            "vitamine_d_supplementen",
        ),
    ],
)
def test_round_18_follow_ups(content, text, last, topic):
    ranking = [("nlu_fallback", 0.49), ("functie_vitamine_d", 0.2)]
    resolution = resolve(text, last, content, ranking, unsure=True)
    assert resolution is not None and resolution.topic == topic


def test_a_follow_up_naming_no_nutrient_keeps_the_nutrient_of_the_answer(content):
    # the NLU reads "genoeg uit" as the magnesium food question
    ranking = [("magnesium_voeding", 0.49), ("meer", 0.3)]
    kept = resolve("haal je daar genoeg uit?", "vitamine_d_voeding", content, ranking)
    assert kept is not None and kept.topic == "vitamine_d_voeding"
    # a counterpart that is also the next step stays the NLU's choice: the
    # activation after the hormone
    ranking = [("magnesium_activeert_vitamine_d", 0.8)]
    moved = resolve("is het meteen actief?", "functie_vitamine_d", content, ranking)
    assert moved is None or moved.topic == "magnesium_activeert_vitamine_d"


def test_thanks_with_a_good_day_is_a_goodbye():
    assert acknowledgement_topic("bedankt en nog een goeie dag") == "afscheid"
    assert acknowledgement_topic("bedankt, nog een vraag") is None


# ------------------------------------------------------------------ round 19


def test_an_order_complaint_after_an_answer_is_not_a_follow_up(content):
    # "badkristallen" is a form of magnesium, but the message is about delivery
    text = "andere vraag, mijn badkristallen zijn nog steeds niet bezorgd"
    assert NAMES_SERVICE.search(text)
    state = ConversationState(last_topic="magnesium_vormen")
    ranking = [("medewerker", 0.92), ("magnesium_vormen", 0.01)]
    assert answer_intent("medewerker", text, state, ranking=ranking) == "medewerker"


def test_an_unsure_question_goes_where_its_kind_and_the_nlu_agree(content):
    text = "wat zijn de gevolgen als ge te weinig hebt?"
    ranking = [
        ("nlu_fallback", 0.51),
        ("vitamine_d_tekort_gevolgen", 0.5),
        ("disbalans_mg_d", 0.47),
    ]
    resolution = resolve(text, "vitamine_d_zonlicht", content, ranking, unsure=True)
    assert resolution.topic == "vitamine_d_tekort_gevolgen"
    # the NLU's best guess elsewhere: the context does not decide
    other = [("nlu_fallback", 0.51), ("disbalans_mg_d", 0.5)]
    assert resolve(text, "vitamine_d_zonlicht", content, other, unsure=True) is None


@pytest.mark.parametrize(
    "text",
    [
        "kan je door een tekort aan de een ook de ander tekort komen?",
        "tekort aan het ene geeft tekort aan het andere?",
    ],
)
def test_the_one_and_the_other_point_back_to_the_pair_just_explained(content, text):
    ranking = [("tekort_symptomen", 0.81)]
    resolution = resolve(text, "samenwerking_mg_d", content, ranking)
    assert resolution.topic == "samenwerking_mg_d"


def test_which_of_the_two_nutrients_stays_with_an_answer_about_both(content):
    ranking = [("magnesium_vormen", 0.63), ("tekort_symptomen", 0.09)]
    kept = resolve("van wat, magnesium of D?", "tekort_symptomen", content, ranking)
    assert kept.topic == "tekort_symptomen"
    # after an answer about one nutrient it is no follow-up
    assert resolve("magnesium of D?", "vitamine_d_voeding", content, ranking) is None


def test_telling_two_things_apart_asks_how_to_find_out():
    assert "vaststellen" in kinds_in("hoe kunt ge dat uit elkaar houden?")


# ------------------------------------------------------------------ round 20


@pytest.mark.parametrize(
    "text",
    [
        "hele lichaam of alleen gezicht?",
        "just face and arms?",
        "enkel gezicht en handen?",
    ],
)
def test_which_skin_to_expose_is_about_the_sun(content, text):
    assert "zon" in kinds_in(text)
    ranking = [("buiten_domein", 0.7), ("meer", 0.05)]
    resolution = resolve(text, "vitamine_d_zonlicht", content, ranking, refused=True)
    assert resolution is not None and resolution.topic == "vitamine_d_zonlicht"


def test_the_same_for_the_other_nutrient_may_say_die_van(content):
    ranking = [("vitamine_d_voeding", 0.52), ("functie_vitamine_d", 0.42)]
    kept = resolve("en die van vitamine d?", "tekort_symptomen", content, ranking)
    assert kept is not None and kept.topic == "tekort_symptomen"


def test_who_to_ask_in_english_asks_how_to_find_out():
    assert "vaststellen" in kinds_in("who should I ask then")


def test_hoezo_asks_for_the_reason_of_the_last_answer(content):
    assert asks_why("hoezo lukt dat niet?")
    ranking = [("meer", 0.85), ("ontkennen", 0.04)]
    kept = resolve("hoezo lukt dat niet?", "vitamine_d_zonlicht", content, ranking)
    assert kept is not None and kept.topic == "vitamine_d_zonlicht"


def test_a_conclusion_yields_to_a_sure_nlu_reading_of_a_next_step(content):
    text = "dus zonder magnesium doet vitamine D niks?"
    sure = [("magnesium_activeert_vitamine_d", 0.9)]
    moved = resolve(text, "samenwerking_mg_d", content, sure)
    assert moved is None or moved.topic == "magnesium_activeert_vitamine_d"
    unsure = [("magnesium_activeert_vitamine_d", 0.6)]
    kept = resolve(text, "samenwerking_mg_d", content, unsure)
    assert kept is not None and kept.topic == "samenwerking_mg_d"


# ------------------------------------------------------------------ round 21


def test_the_same_cause_for_the_other_nutrient_stays_with_an_answer_about_both(
    content,
):
    ranking = [("vitamine_d_verhoogt_magnesiumbehoefte", 0.7), ("vervolg", 0.2)]
    kept = resolve(
        "en door te weinig vitamine D?", "tekort_symptomen", content, ranking
    )
    assert kept is not None and kept.topic == "tekort_symptomen"


@pytest.mark.parametrize(
    "text",
    [
        "how do you know for sure then?",
        "how can I know which one it is?",
        "hoe kun je dat dan zeker weten?",
        "hoe zie je of het magnesium is?",
    ],
)
def test_knowing_for_sure_asks_how_to_find_out(text):
    assert kinds_in(text)[0] == "vaststellen"


@pytest.mark.parametrize("text", ["zeker weten?", "zeker weten, welke studie?"])
def test_are_you_sure_asks_for_no_test(text):
    assert "vaststellen" not in kinds_in(text)


@pytest.mark.parametrize(
    ("text", "questions"),
    [
        ("maar dat zegt toch niet alles?", True),
        ("is dat niet slecht voor je maag?", True),
        ("serieus niet?", True),
        ("nee, liever niet?", False),
        ("nee", False),
        ("niet nodig", False),
    ],
)
def test_a_question_with_niet_is_no_decline(text, questions):
    assert questions_rather_than_declines(text) is questions


def test_a_question_the_nlu_took_for_no_is_answered_in_context():
    state = ConversationState(last_topic="tekort_vaststellen")
    ranking = [("ontkennen", 0.7), ("meer", 0.1)]
    text = "maar zo'n bloedtest zegt toch niet alles?"
    assert answer_intent("ontkennen", text, state, None, ranking) == (
        "tekort_vaststellen"
    )
    declined = ConversationState(last_topic="tekort_vaststellen")
    assert answer_intent("ontkennen", "nee hoor", declined, None, ranking) != (
        "tekort_vaststellen"
    )


def test_people_who_stay_indoors_are_a_risk_group(content):
    text = "en wie vooral binnenshuis blijft?"
    assert kinds_in(text)[0] == "risico"
    ranking = [("magnesium_voeding", 0.5), ("vitamine_d_tekort_risicogroepen", 0.4)]
    kept = resolve(text, "vitamine_d_tekort_risicogroepen", content, ranking)
    assert kept is not None and kept.topic == "vitamine_d_tekort_risicogroepen"


# ------------------------------------------------------------------ round 22


@pytest.mark.parametrize("text", ["and magnesium deficiency?", "en een D-tekort?"])
def test_the_other_nutrients_shortage_stays_with_an_answer_about_both(content, text):
    ranking = [("vitamine_d_tekort_risicogroepen", 0.4), ("tekort_symptomen", 0.2)]
    kept = resolve(text, "tekort_symptomen", content, ranking, unsure=True)
    assert kept is not None and kept.topic == "tekort_symptomen"


def test_the_research_behind_an_answer_asks_for_no_test():
    assert "vaststellen" not in kinds_in("welke studie zit daarachter?")
    assert "vaststellen" not in kinds_in("is er bewijs erachter?")
    assert kinds_in("hoe kom je daarachter?")[0] == "vaststellen"
