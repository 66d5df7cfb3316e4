"""The second reading of the development conversations, and the agreement rates."""

from __future__ import annotations

from pathlib import Path

import pytest

from faq.content import CONTENT_TOPIC_IDS, CONVERSATION_TOPIC_IDS
from tools.agreement import Reading, agreement, load_bot_answers, load_readings


def test_the_second_reading_matches_its_development_sets_turn_by_turn():
    readings = load_readings()
    assert len(readings) > 500
    assert {r.key[0] for r in readings} == {"dev_round7", "dev_former_g"}
    # every label is a topic of the contract, never the fallback
    labels = {r.second for r in readings}
    assert labels <= set(CONTENT_TOPIC_IDS) | set(CONVERSATION_TOPIC_IDS)
    assert "fallback" not in labels


def test_a_second_reading_that_does_not_match_its_set_is_refused(tmp_path):
    path = tmp_path / "second.yml"
    path.write_text(
        "readings:\n- set: dev_round7\n  multi_turn:\n  - name: bestaat_niet\n"
        "    turns:\n    - {text: hallo, topic: groet}\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError, match="dev_round7/bestaat_niet"):
        load_readings(path)


def _reading(turn: int, writer: str, second: str) -> Reading:
    return Reading(("dev_x", "c", turn), "tekst", writer, second)


def test_agreement_counts_readers_and_the_bot_per_group():
    readings = [
        _reading(1, "vitamine_k2", "vitamine_k2"),
        _reading(2, "tekort_symptomen", "vitamine_d_tekort_gevolgen"),
        _reading(3, "magnesium_vormen", "magnesium_vormen"),
    ]
    # the bot missed turn 2 (answering the second reader's topic) and turn 3
    bot = {
        ("dev_x", "c", 2): "vitamine_d_tekort_gevolgen",
        ("dev_x", "c", 3): "bronnen",
    }
    result = agreement(readings, bot)

    assert result["first"]["readers agree"] == 1.0
    assert result["later"]["turns"] == 2
    assert result["later"]["readers agree"] == pytest.approx(0.5)
    assert result["later"]["bot = writer"] == 0.0
    assert result["later"]["bot = second reader"] == pytest.approx(0.5)
    assert result["later"]["bot = either"] == pytest.approx(0.5)
    assert result["all"]["bot = writer"] == pytest.approx(1 / 3)


def test_without_the_bot_only_the_readers_are_compared():
    result = agreement([_reading(1, "groet", "groet")])
    assert set(result["all"]) == {"turns", "readers agree"}


def test_bot_answers_come_from_the_multi_turn_rows_of_the_errors(tmp_path: Path):
    path = tmp_path / "errors.tsv"
    path.write_text(
        "set\ttext\texpected\tbot\tbaseline\tbot_ok\tbaseline_ok\tstyle\tcase\tturn"
        "\tin_training\n"
        "dev_x\ten dan?\tvitamine_k2\tfallback\tvitamine_k2\t0\t1\tmulti_turn"
        "\tc\t2\t0\n"
        "dev_x\thoi\tgroet\thulp\tgroet\t0\t1\tkort\t\t\t0\n",
        encoding="utf-8",
    )
    assert load_bot_answers(path) == {("dev_x", "c", 2): "fallback"}
