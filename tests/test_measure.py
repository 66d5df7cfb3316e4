"""Pure functions of the measurement scripts: no servers, nothing timed."""

from __future__ import annotations

import math

import pytest

from tools import baseline as bl
from tools import bench
from tools import evaluate as ev
from tools import tune_thresholds as tt

# ---------------------------------------------------------------- baseline


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("en [magnesium](stof)?", "en magnesium?"),
        ('en [vit d]{"entity": "stof", "value": "vitamine_d"}?', "en vit d?"),
        (
            '[k2]{"entity": "stof"} en [mg](stof) samen',
            "k2 en mg samen",
        ),
        ("geen markup [hier]", "geen markup [hier]"),
        ("haakjes (zoals dit) blijven", "haakjes (zoals dit) blijven"),
    ],
)
def test_strip_entities(raw, plain):
    assert bl.strip_entities(raw) == plain


def test_parse_examples_block_and_list():
    block = '- hoi\n- en [mg]{"entity": "stof", "value": "magnesium"}?\n\n-   \n'
    assert bl.parse_examples(block) == ["hoi", "en mg?"]
    assert bl.parse_examples([{"text": "[x](y) z"}, "los"]) == ["x z", "los"]
    assert bl.parse_examples(None) == []


def test_load_training_data_skips_synonyms_and_regexes(tmp_path):
    (tmp_path / "a.yml").write_text(
        'version: "3.1"\nnlu:\n'
        "- intent: groet\n  examples: |\n    - hoi\n    - hallo\n"
        "- synonym: magnesium\n  examples: |\n    - mg\n"
        "- regex: dosis\n  examples: |\n    - \\d+ mg\n",
        encoding="utf-8",
    )
    (tmp_path / "b.yml").write_text(
        "nlu:\n- intent: vervolg\n  examples: |\n    - en [mg](stof)?\n",
        encoding="utf-8",
    )
    texts, intents = bl.load_training_data(tmp_path)
    assert texts == ["hoi", "hallo", "en mg?"]
    assert intents == ["groet", "groet", "vervolg"]


def test_real_training_data_has_no_markup_left():
    texts, intents = bl.load_training_data()
    assert len(texts) == len(intents) > 100
    assert not [t for t in texts if "](" in t or "]{" in t]
    assert {"meer", "vervolg", "bevestigen", "ontkennen"} <= set(intents)


@pytest.mark.parametrize(
    ("intent", "topic"),
    [
        ("vitamine_k2", "vitamine_k2"),
        ("bronnen", "bronnen"),
        ("groet", "groet"),
        ("persoonlijk_advies", "persoonlijk_advies"),
        ("buiten_domein", "buiten_domein"),
        ("meer", None),
        ("vervolg", None),
        ("bevestigen", None),
        ("ontkennen", None),
        ("nlu_fallback", "fallback"),
        ("iets_onbekends", "fallback"),
    ],
)
def test_intent_to_topic(intent, topic):
    assert bl.intent_to_topic(intent) == topic


@pytest.mark.parametrize(
    ("text", "nutrient"),
    [
        ("en magnesium?", "magnesium"),
        ("en mg?", "magnesium"),
        ("en magnesuim", "magnesium"),
        ("en vitamine d?", "vitamine_d"),
        ("en vit d3", "vitamine_d"),
        ("hoe zit het met d3", "vitamine_d"),
        ("en k2?", "vitamine_k2"),
        ("en vitamine k2?", "vitamine_k2"),
        ("en ijzer?", None),
    ],
)
def test_detect_nutrient(text, nutrient):
    assert bl.detect_nutrient(text) == nutrient


def test_follow_up_logic_emulates_the_bot():
    state = bl.ConversationState()
    assert bl.answer_intent("meer", "vertel meer", state) == "hulp"
    assert bl.answer_intent("vitamine_d_supplementen", "d3?", state) == (
        "vitamine_d_supplementen"
    )
    assert bl.answer_intent("meer", "vertel meer", state) == "vitamine_d_supplementen"
    assert bl.answer_intent("bronnen", "bron?", state) == "vitamine_d_supplementen"
    # counterpart from content/kennisbank.yml
    assert bl.answer_intent("vervolg", "en magnesium?", state) == "magnesium_vormen"
    assert state.last_topic == "magnesium_vormen"
    assert bl.answer_intent("bronnen", "alle bronnen", state) == "bronnen"
    assert bl.answer_intent("ontkennen", "nee", state) == "hulp"


@pytest.mark.parametrize(
    "intent, last, text, expected",
    [
        # action_kennisbank and action_medewerker answer a follow-up via context
        (
            "kennisbank",
            "tekort_symptomen",
            "is er een test voor?",
            "tekort_vaststellen",
        ),
        (
            "medewerker",
            "tekort_vaststellen",
            "wie kan me daarbij helpen?",
            ("tekort_vaststellen"),
        ),
        # unless the message names the shop's pages or people
        (
            "kennisbank",
            "tekort_symptomen",
            "staat die test op jullie site?",
            ("kennisbank"),
        ),
        (
            "medewerker",
            "tekort_vaststellen",
            "ik wil een medewerker spreken",
            ("medewerker"),
        ),
    ],
)
def test_the_emulation_answers_shop_intents_in_context_like_the_actions(
    intent, last, text, expected
):
    state = bl.ConversationState(last_topic=last)
    assert bl.answer_intent(intent, text, state) == expected


def test_vervolg_without_context_uses_default_topic():
    state = bl.ConversationState()
    assert bl.answer_intent("vervolg", "en k2?", state) == "vitamine_k2"
    assert bl.answer_intent("vervolg", "en ijzer?", bl.ConversationState()) == (
        "fallback"
    )


def test_bevestigen_answers_the_offered_topic():
    state = bl.ConversationState()
    assert (
        bl.answer_intent("persoonlijk_advies", "zwanger", state, "vitamine_k2")
        == "persoonlijk_advies"
    )
    assert bl.answer_intent("bevestigen", "ja graag", state) == "vitamine_k2"
    assert state.offered_topic is None
    assert bl.answer_intent("bevestigen", "ja", bl.ConversationState()) == "hulp"
    fallback_state = bl.ConversationState()
    assert (
        bl.answer_intent("nlu_fallback", "???", fallback_state, "bronnen") == "fallback"
    )
    assert bl.answer_intent("bevestigen", "ja", fallback_state) == "bronnen"
    # with nothing on offer, a bare "ok" acknowledges and "nee hoor, dank je" closes
    assert bl.answer_intent("bevestigen", "ok", fallback_state) == "bedankt"
    assert bl.answer_intent("ontkennen", "nee hoor, dank je", fallback_state) == (
        "bedankt"
    )
    assert bl.answer_intent("bevestigen", "ja", fallback_state) == "bronnen"


def test_fallback_rule_accepts_clear_answers_only():
    rule = tt.FallbackRule(0.5, 0.1)
    assert rule.decide([("a", 0.7), ("b", 0.2)]) == "a"
    assert rule.decide([("a", 0.45), ("b", 0.1)]) is None  # too unsure
    assert rule.decide([("a", 0.6), ("b", 0.55)]) is None  # too close
    assert rule.decide([("a", 0.6)]) == "a"
    assert rule.decide([]) is None


def test_choose_rule_trades_wrong_answers_against_correct_ones():
    rankings = [
        [("vitamine_k2", 0.9), ("bronnen", 0.05)],
        [("vitamine_k2", 0.8), ("bronnen", 0.1)],
        [("bronnen", 0.35), ("vitamine_k2", 0.3)],  # wrong content answer
        [("groet", 0.3), ("bronnen", 0.2)],
    ]
    expected = ["vitamine_k2", "vitamine_k2", "vitamine_k2", "groet"]
    rule, candidates = tt.choose_rule(rankings, expected, cost=2.0)
    assert rule.decide(rankings[2]) is None
    assert rule.decide(rankings[0]) == "vitamine_k2"
    assert rule.decide(rankings[1]) == "vitamine_k2"
    assert len(candidates) > 1
    counts = tt.outcome_counts(rankings, expected, rule)
    assert counts["wrong_content"] == 0
    # with wrong answers free, answering everything is best
    free, _ = tt.choose_rule(rankings, expected, cost=0.0)
    assert free.threshold == -math.inf


def test_the_chosen_rule_never_answers_a_tie():
    # a tie is how the bot's model marks a topic its second opinion disputes
    rankings = [
        [("vitamine_k2", 0.9), ("bronnen", 0.05)],
        [("vitamine_k2", 0.6), ("bronnen", 0.3)],
        [("bronnen", 0.45), ("vitamine_k2", 0.45)],  # tied: would be wrong
    ]
    expected = ["vitamine_k2", "vitamine_k2", "vitamine_k2"]
    rule, candidates = tt.choose_rule(rankings, expected, cost=0.0)
    assert min(c["ambiguity"] for c in candidates) == tt.MIN_AMBIGUITY > 0
    assert rule.decide(rankings[2]) is None
    assert rule.decide(rankings[0]) == "vitamine_k2"


#: Ten toy examples of two intents for the cross-validation helpers.
TOY_TEXTS = [f"tekst {i}" for i in range(10)]
TOY_LABELS = ["a", "b"] * 5


def toy_fit_predict(held_out: list):
    """A fit_predict that checks train and test never overlap; logs each test fold."""

    def fit_predict(train_x, train_y, test_x):
        assert not set(train_x) & set(test_x)
        held_out.append(tuple(test_x))
        return [[(train_y[0], 1.0)] for _ in test_x]

    return fit_predict


def test_out_of_fold_rankings_never_predict_their_own_training_text():
    texts, labels = TOY_TEXTS, TOY_LABELS
    held_out: list = []
    fit_predict = toy_fit_predict(held_out)

    rankings, folds = tt.out_of_fold_rankings(texts, labels, fit_predict, folds=5)
    seen = [text for fold in held_out for text in fold]
    assert sorted(seen) == sorted(texts)
    assert len(rankings) == 10 and all(rankings)
    assert sorted(set(folds)) == [0, 1, 2, 3, 4]


def test_repeated_rankings_predict_every_text_once_per_seed():
    texts, labels = TOY_TEXTS, TOY_LABELS
    held_out: list = []
    fit_predict = toy_fit_predict(held_out)

    rankings, expected = tt.repeated_out_of_fold_rankings(
        texts, labels, fit_predict, seeds=(1, 2, 3)
    )
    splits = [tuple(sorted(fold)) for fold in held_out]
    assert len(rankings) == len(expected) == 30
    assert expected == labels * 3
    # each seed shuffles the folds differently
    assert len(set(splits)) > 5


def test_write_rule_changes_only_the_fallback_numbers(tmp_path):
    config = tmp_path / "config.yml"
    config.write_text(
        "pipeline:\n  # uitleg\n  - name: FallbackClassifier\n"
        "    threshold: 0.55\n    ambiguity_threshold: 0.2\n"
        "policies:\n  - name: RulePolicy\n    core_fallback_threshold: 0.3\n",
        encoding="utf-8",
    )
    tt.write_rule(tt.FallbackRule(0.4711, 0.0177), config)
    text = config.read_text(encoding="utf-8")
    assert "threshold: 0.4711\n    ambiguity_threshold: 0.0177" in text
    assert "# uitleg" in text and "core_fallback_threshold: 0.3" in text
    assert tt.configured_rule(config) == tt.FallbackRule(0.4711, 0.0177)


TOY = {
    "groet": ["hoi", "hallo", "goedemorgen", "hey daar", "hallo allemaal", "hoi hoi"],
    "vitamine_k2": [
        "wat doet k2",
        "waarom k2 met d3",
        "is vitamine k2 nodig",
        "k2 en d3 samen",
        "vitamine k2 uitleg",
        "waarvoor dient k2",
    ],
    "afscheid": ["doei", "tot ziens", "dag dag", "fijne dag", "bye", "tot later"],
}


def toy_data():
    texts = [t for examples in TOY.values() for t in examples]
    intents = [i for i, examples in TOY.items() for _ in examples]
    return texts, intents


def test_baseline_on_toy_data():
    texts, intents = toy_data()
    model = bl.Baseline().fit(texts, intents, tune_threshold=False)
    assert model.threshold == -math.inf
    assert sorted(model.classes) == sorted(TOY)
    assert model.predict_intent("hallo daar")[0] == "groet"
    assert model.answer("waarom vitamine k2")[0] == "vitamine_k2"
    assert model.answer_conversation(["hoi", "k2 uitleg", "doei"]) == [
        "groet",
        "vitamine_k2",
        "afscheid",
    ]


def test_baseline_rule_comes_from_the_shared_chooser():
    texts, intents = toy_data()
    texts, intents = texts * 2, intents * 2  # five folds need five per intent
    model = bl.Baseline().fit(texts, intents)
    assert model.validation["cost"] == tt.COST
    assert model.validation["folds"] == tt.FOLDS
    assert model.validation["threshold"] == model.rule.threshold
    model.rule = tt.FallbackRule(10.0, 0.0)  # nothing clears it
    assert model.answer("hoi")[0] == "fallback"
    model.rule = tt.FallbackRule(float("-inf"), 100.0)  # nothing is clear enough
    assert model.answer("hoi")[0] == "fallback"


# ---------------------------------------------------------------- evaluate


def turn(expected, bot, baseline="fallback", style="standaard", seen=False):
    t = ev.Turn(text=f"{expected}->{bot}", expected=expected, style=style)
    t.bot, t.baseline, t.in_training = bot, baseline, seen
    return t


def test_is_correct_and_reply_topic():
    assert ev.is_correct("any_content", "vitamine_k2")
    assert not ev.is_correct("any_content", "fallback")
    assert ev.is_correct("groet", "groet")
    assert ev.reply_topic([{"text": "x"}, {"custom": {"topic": "groet"}}]) == (
        "groet",
        "",
    )
    assert ev.reply_topic([]) == (ev.NO_TOPIC, "")
    apology = {"custom": {"topic": "fallback", "reason": "storing:time-out"}}
    assert ev.reply_topic([apology]) == ("fallback", "storing:time-out")


def test_compute_metrics():
    singles = [
        turn("vitamine_k2", "vitamine_k2", style="kort"),
        turn("vitamine_k2", "bronnen", seen=True),  # wrong answer
        turn("bronnen", "fallback"),  # not wrong, just not answered
        turn("magnesium_voeding", "groet"),  # conversation topic: not wrong
        turn("persoonlijk_advies", "persoonlijk_advies"),
        turn("persoonlijk_advies", "vitamine_k2"),
        turn("buiten_domein", "buiten_domein"),
        turn("buiten_domein", "fallback"),
        turn("buiten_domein", "vitamine_k2"),
        turn("buiten_domein", "buiten_domein"),
        turn("groet", "groet"),
        turn("hulp", "fallback"),
    ]
    cases = [
        ev.Case(
            "a",
            [
                turn("persoonlijk_advies", "persoonlijk_advies"),
                turn("any_content", "vitamine_k2"),
            ],
        ),
        ev.Case("b", [turn("vitamine_k2", "vitamine_k2"), turn("bedankt", "afscheid")]),
    ]
    f = ev.compute_metrics(singles, cases, "bot")["figures"]
    assert f["content_accuracy"] == pytest.approx(1 / 4)
    assert f["wrong_answer_rate"] == pytest.approx(1 / 4)
    assert f["content_fallback_rate"] == pytest.approx(1 / 4)
    assert f["content_accuracy_unseen"] == pytest.approx(1 / 3)
    assert f["wrong_answer_rate_unseen"] == 0
    assert f["persoonlijk_advies_catch_rate"] == pytest.approx(1 / 2)
    assert f["buiten_domein_refusal_rate"] == pytest.approx(3 / 4)
    assert f["buiten_domein_as_buiten_domein"] == pytest.approx(2 / 4)
    assert f["buiten_domein_as_fallback"] == pytest.approx(1 / 4)
    assert f["conversation_accuracy"] == pytest.approx(1 / 2)
    assert f["multi_turn_turn_accuracy"] == pytest.approx(3 / 4)
    assert f["multi_turn_case_accuracy"] == pytest.approx(1 / 2)
    base = ev.compute_metrics(singles, cases, "baseline")
    assert base["figures"]["content_accuracy"] == 0
    assert base["figures"]["wrong_answer_rate"] == 0
    by_style = ev.compute_metrics(singles, cases, "bot")["by_style"]
    assert by_style["kort"] == 1.0
    assert list(by_style) == ["standaard", "kort"]


def test_source_follow_ups_are_scored_by_the_contract_as_well(tmp_path):
    path = tmp_path / "set.yml"
    path.write_text(
        """
multi_turn:
- name: x
  turns:
  - {text: "wat doet vitamine K2?", topic: vitamine_k2}
  - {text: "welk onderzoek zegt dat?", topic: bronnen}
  - {text: "kun je de link geven?", topic: bronnen}
  - {text: "en de hele bronnenlijst van het artikel?", topic: bronnen}
- name: y
  turns:
  - {text: "welke bronnen gebruiken jullie?", topic: bronnen}
  - {text: "en welke gaat over de zon?", topic: bronnen}
""",
        encoding="utf-8",
    )
    _, cases = ev.load_heldout(path)
    x, y = cases
    # the sources of the answer just given continue its topic (topics.md),
    # also in a chain; the whole list and a conversation about them do not
    assert [t.contract for t in x.turns] == ["", "vitamine_k2", "vitamine_k2", ""]
    assert [t.contract for t in y.turns] == ["", ""]
    answers = ["vitamine_k2", "vitamine_k2", "vitamine_k2", "bronnen"]
    for t, answered in zip(x.turns, answers, strict=True):
        t.bot = answered
    for t in y.turns:
        t.bot = "bronnen"
    f = ev.compute_metrics([], cases, "bot")["figures"]
    assert f["multi_turn_turn_accuracy"] == pytest.approx(4 / 6)
    assert f["multi_turn_contract_accuracy"] == pytest.approx(6 / 6)
    assert f["multi_turn_source_follow_ups"] == pytest.approx(2 / 6)


def test_empty_groups_give_none():
    f = ev.compute_metrics([turn("groet", "groet")], [], "bot")["figures"]
    assert f["content_accuracy"] is None
    assert f["multi_turn_case_accuracy"] is None


def test_ratio_and_better():
    assert ev.ratio(0.9, 0.6) == pytest.approx(1.5)
    assert ev.ratio(0.5, 0) is None
    assert ev.ratio(None, 0.5) is None
    assert ev.better("content_accuracy", 0.9, 0.8) == "bot"
    assert ev.better("wrong_answer_rate", 0.02, 0.05) == "bot"
    assert ev.better("wrong_answer_rate", 0.05, 0.02) == "baseline"
    assert ev.better("content_fallback_rate", 0.05, 0.02) == ""
    assert ev.better("content_accuracy", 0.5, 0.5) == "="


def test_comparison_rows_show_baseline_over_bot_for_wrong_answers():
    singles = [
        turn("vitamine_k2", "bronnen", "vitamine_k2"),
        turn("bronnen", "bronnen", "bronnen"),
    ]
    bot = ev.compute_metrics(singles, [], "bot")
    base = ev.compute_metrics(singles, [], "baseline")
    rows = {r["figure"]: r for r in ev.comparison_rows(bot, base)}
    wrong = rows["wrong_answer_rate"]
    assert wrong["bot"] == 0.5 and wrong["baseline"] == 0
    assert wrong["bot_over_baseline"] is None
    assert wrong["better"] == "baseline"
    assert rows["content_accuracy"]["bot_over_baseline"] == pytest.approx(0.5)
    assert "style:standaard" in rows
    assert "wrong-answer rate" in ev.render_table(list(rows.values()))
    assert ev.render_table(list(rows.values()), markdown=True).startswith("| figure")


def test_confusion_counts_and_order():
    pairs = [("a", "a"), ("a", "b"), ("b", "fallback"), ("a", "a"), ("x", "a")]
    assert ev.confusion_counts(pairs, ["a", "b"], ["a", "b", "fallback"]) == [
        [2, 1, 0],
        [0, 0, 1],
    ]
    assert ev.topic_order(["fallback", "groet", "bronnen", "zzz"]) == [
        "bronnen",
        "groet",
        "fallback",
        "zzz",
    ]


def test_error_rows_and_top_confusions():
    singles = [
        turn("vitamine_k2", "vitamine_k2", "vitamine_k2"),
        turn("vitamine_k2", "bronnen", "vitamine_k2"),
        turn("groet", "groet", "afscheid"),
    ]
    rows = ev.error_rows(singles, [])
    assert [r[1:6] for r in rows] == [
        ["vitamine_k2", "bronnen", "vitamine_k2", "0", "1"],
        ["groet", "groet", "afscheid", "1", "0"],
    ]
    assert ev.top_confusions(singles) == [("vitamine_k2", "bronnen", 1)]


def test_training_overlap_is_normalised():
    turns = [turn("groet", "groet"), turn("groet", "groet")]
    turns[0].text, turns[1].text = "Hallo, daar!", "iets nieuws"
    assert ev.mark_training_overlap(turns, ["hallo daar", "doei"]) == 1
    assert turns[0].in_training and not turns[1].in_training


def test_sweep_topic():
    parse = {
        "text": "x",
        "intent_ranking": [
            {"name": "nlu_fallback", "confidence": 0.5},
            {"name": "vitamine_k2", "confidence": 0.45},
            {"name": "bronnen", "confidence": 0.2},
        ],
    }
    assert ev.sweep_topic(parse, 0.4, 0.1) == "vitamine_k2"
    assert ev.sweep_topic(parse, 0.5, 0.1) == "fallback"
    assert ev.sweep_topic(parse, 0.4, 0.3) == "fallback"  # ambiguous
    meer = {
        "text": "vertel meer",
        "intent_ranking": [{"name": "meer", "confidence": 1}],
    }
    assert ev.sweep_topic(meer, 0.5, 0.1) == "hulp"  # no topic yet in a new chat


# ------------------------------------------------------------------- bench


def test_percentiles():
    assert bench.percentiles([]) == {"p50": None, "p95": None, "p99": None}
    values = list(range(1, 101))
    p = bench.percentiles(values)
    assert p["p50"] == pytest.approx(50.5)
    assert p["p95"] == pytest.approx(95.05)
    assert p["p99"] == pytest.approx(99.01)


def test_summarise_counts_outcomes_and_throughput():
    samples = [
        bench.Sample(0.0, 1.0, bench.OK, "groet"),
        bench.Sample(0.5, 2.0, bench.OK, "groet"),
        bench.Sample(1.0, 3.0, bench.LOST),
        bench.Sample(1.0, 4.0, bench.APOLOGY, "fallback"),
        bench.Sample(2.0, 2.1, bench.ERROR),
    ]
    s = bench.summarise(samples, requested=6)
    assert (s["requested"], s["sent"]) == (6, 5)
    assert (s["ok"], s["lost"], s["apology"], s["error"]) == (2, 1, 1, 1)
    assert s["wall_seconds"] == pytest.approx(4.0)
    assert s["throughput"] == pytest.approx(0.5)
    assert s["p50"] == pytest.approx(1.75)  # errors have no latency
    assert bench.summarise([], 10)["throughput"] is None


def test_window_median():
    latencies = [float(i) for i in range(1, 201)]
    assert bench.window_median(latencies, 1, 5) == 3.0
    assert bench.window_median(latencies, 196, 200) == 198.0
    assert bench.window_median(latencies[:10], 196, 200) is None


def test_load_summary():
    quiet = bench.load_summary(100.0, 110.0, own_cpu=9.5, wall=10.0)
    assert not quiet["under_load"]
    busy = bench.load_summary(100.0, 125.0, own_cpu=10.0, wall=10.0)
    assert busy["under_load"]
    assert busy["other_processes_cores"] == pytest.approx(1.5)
    assert busy["note"].startswith("measured under load")


def test_bench_messages_are_dutch_and_distinct():
    assert len(bench.MESSAGES) == len(set(bench.MESSAGES)) == 20
    assert bench.PAIR[0] != bench.PAIR[1]


def test_new_groups_long_noise_and_customer_service():
    singles = [
        turn("medewerker", "medewerker", style="lang"),
        turn("medewerker", "fallback", style="ruis"),
        turn("vitamine_k2", "vitamine_k2", style="ruis"),
    ]
    f = ev.compute_metrics(singles, [], "bot")["figures"]
    assert f["medewerker_rate"] == pytest.approx(1 / 2)
    assert f["long_accuracy"] == 1.0
    assert f["noise_accuracy"] == pytest.approx(1 / 2)


def test_bar_rows_judge_against_the_bar_and_the_baseline():
    bot = ev.compute_metrics(
        [turn("vitamine_k2", "vitamine_k2", "vitamine_k2")] * 98
        + [turn("vitamine_k2", "fallback", "vitamine_k2")] * 2,
        [],
        "bot",
    )
    base = ev.compute_metrics(
        [turn("vitamine_k2", "vitamine_k2", "vitamine_k2")] * 100, [], "baseline"
    )
    rows = {r["figure"]: r for r in ev.bar_rows(bot, base, dose_count=1)}
    assert rows["content_accuracy"]["bot"] == pytest.approx(0.98)
    assert rows["content_accuracy"]["met"] == "no (below baseline)"
    assert rows["wrong_answer_rate"]["met"] == "yes"
    assert rows["dose_replies"]["met"] == "no"
    assert rows["multi_turn_turn_accuracy"]["met"] == ""  # nothing to score
    table = ev.render_bar(list(rows.values()))
    assert "content topic answered correctly" in table and ">= 97 %" in table


def test_blind_set_results_hold_aggregates_only():
    singles = [turn("vitamine_k2", "vitamine_k2", "bronnen")]
    singles[0].bot_texts = ["Vitamine K2 ..."]
    cases = [ev.Case("c", [turn("groet", "groet")])]
    blind = ev.EvalSet("blind_x", "blind", ev.BLIND / "set_a.yml", True)
    dev = ev.EvalSet("dev", "dev", ev.HELDOUT, False)
    transport = {"request_errors": 0, "apologies": 0, "empty_replies": 0}
    secret = "vitamine_k2->vitamine_k2"
    blind_result = ev.set_result(blind, singles, cases, transport, 0)
    assert secret not in str(blind_result) and "Vitamine K2" not in str(blind_result)
    assert "items" not in blind_result and "dose_hits" not in blind_result
    assert blind_result["bot"]["figures"]["content_accuracy"] == 1.0
    dev_result = ev.set_result(dev, singles, cases, transport, 0)
    assert secret in str(dev_result["items"])


def test_every_set_file_exists_and_loads():
    for spec in ev.SETS:
        singles, cases = ev.load_heldout(spec.path)
        assert len(cases) >= 20
        # the context sets hold conversations only
        assert (
            len(singles) > 100
            or spec.name == "dev_context"
            or spec.name.startswith("dev_round")
        )


def test_baseline_resolves_elliptical_follow_ups_like_the_bot():
    state = bl.ConversationState()
    assert bl.answer_intent("functie_vitamine_d", "wat doet vit d", state) == (
        "functie_vitamine_d"
    )
    # the classifier says symptoms; the context says consequences of a shortage
    assert (
        bl.answer_intent(
            "tekort_symptomen", "en wat als je er te weinig van hebt?", state
        )
        == "vitamine_d_tekort_gevolgen"
    )
    assert state.last_topic == "vitamine_d_tekort_gevolgen"
    state = bl.ConversationState(last_topic="magnesium_activeert_vitamine_d")
    assert bl.answer_intent("vervolg", "geldt dat ook omgekeerd?", state) == (
        "vitamine_d_verhoogt_magnesiumbehoefte"
    )
    state = bl.ConversationState(last_topic="tekort_symptomen")
    ranking = [("meer", 0.2), ("groet", 0.1)]
    assert (
        bl.answer_intent(
            "nlu_fallback", "hoe stel je dat dan vast?", state, None, ranking
        )
        == "tekort_vaststellen"
    )


def test_nlu_line_judges_the_bar_with_the_comparator():
    nlu = {
        "messages": 448,
        "warmup": 20,
        "bot": {"p50": 0.002, "p95": 0.0041, "p99": 0.006},
        "baseline": {"p50": 0.001, "p95": 0.0015, "p99": 0.002},
        "p95_bar_seconds": bench.NLU_P95_BAR_SECONDS,
        "bar_met": True,
    }
    line = bench.nlu_line(nlu)
    assert "bot p50/p95/p99 2.00 ms / 4.10 ms / 6.00 ms" in line
    assert "baseline 1.00 ms / 1.50 ms" in line and "met" in line
    table = bench.render({"nlu": nlu})
    assert "NLU parse, in-process" in table and "bot p50" not in table.split("\n")[0]
    nlu["bar_met"] = False
    assert "NOT met" in bench.nlu_line(nlu)


def test_nlu_texts_are_the_bench_messages_and_the_development_set():
    texts = bench.nlu_texts()
    assert texts[: len(bench.MESSAGES)] == list(bench.MESSAGES)
    assert len(texts) > 400
