"""make insights: figures from a tracker store that Rasa itself wrote."""

from __future__ import annotations

import csv
import datetime as dt
import re

import pytest
import sqlalchemy as sa

from staff import events as events_module
from staff.events import read_conversations
from staff.insights import main, read_insights, write_report
from tests.conversations import T, at, events_of, rating_turn, save

DAY1, DAY2 = "2026-11-02", "2026-11-03"
K2 = "vitamine_k2"
ZON = "vitamine_d_zonlicht"


#: The invented conversations (also written to PostgreSQL in
#: test_insights_postgres.py).
CONVERSATIONS = [
    # Day 1, widget: an answer, rated helpful; then a "bedoel je …?".
    (
        "socketio:aaaa",
        events_of(
            [
                T("waarom d3 met k2?", K2, 0.93, topic=K2, ask_feedback=True),
                rating_turn(K2, True),
                T(
                    "zonnebankje goed?",
                    "nlu_fallback",
                    ranking=[(ZON, 0.41), ("vitamine_d_supplementen", 0.30)],
                    topic="fallback",
                    response="utter_niet_zeker",
                ),
            ],
            at(DAY1, 9),
        ),
    ),
    # Day 1, WhatsApp: personal advice refused, then a handoff.
    (
        "whatsapp:+31611111111",
        events_of(
            [
                T(
                    "hoeveel mg, ik ben zwanger",
                    "persoonlijk_advies",
                    0.97,
                    response="utter_persoonlijk_advies",
                ),
                T("ik wil iemand spreken", "medewerker", 0.99, handoff=True),
            ],
            at(DAY1, 11),
        ),
    ),
    # Day 2, REST: K2 again by button, rated not helpful, then helpful
    # (the last rating counts); a message not understood at all.
    (
        "rest:bbbb",
        events_of(
            [
                T(f"/{K2}", K2, 1.0, topic=K2, ask_feedback=True),
                rating_turn(K2, False),
                rating_turn(K2, True),
                T(
                    "bel me op 06-12345678",
                    "nlu_fallback",
                    ranking=[("medewerker", 0.2)],
                    topic="fallback",
                    response="utter_niet_begrepen",
                ),
            ],
            at(DAY2, 15),
        ),
    ),
    # Day 2, REST: one answer, rated not helpful.
    (
        "rest:cccc",
        events_of(
            [
                T(
                    "hoe lang in de zon?",
                    ZON,
                    0.62,
                    topic=ZON,
                    ask_feedback=True,
                ),
                rating_turn(ZON, False),
            ],
            at(DAY2, 16),
        ),
    ),
    # Outside the period: never counted.
    ("rest:dddd", events_of([T("hoi", "groet", 0.99)], at("2026-11-20"))),
]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("insights") / "tracker.db"
    save(path, CONVERSATIONS)
    return path


@pytest.fixture(scope="module")
def insights(db):
    engine = sa.create_engine(f"sqlite:///{db}")
    return read_insights(
        engine, dt.date.fromisoformat(DAY1), dt.date.fromisoformat(DAY2)
    )


def test_conversations_and_messages_per_day_by_channel(insights):
    d1, d2 = dt.date.fromisoformat(DAY1), dt.date.fromisoformat(DAY2)

    assert insights.conversations == {
        (d1, "socketio"): 1,
        (d1, "whatsapp"): 1,
        (d2, "rest"): 2,
    }
    assert insights.messages[(d1, "socketio")] == 3
    assert insights.messages[(d2, "rest")] == 6
    assert insights.total_conversations == 4


def test_topics_ranked_without_counting_ratings(insights):
    assert insights.topics.most_common(2) == [(K2, 2), ("fallback", 2)]
    assert insights.topics_typed[K2] == 1  # the other was a button
    assert "feedback" not in insights.topics


def test_fallback_and_did_you_mean_per_day(insights):
    d1, d2 = dt.date.fromisoformat(DAY1), dt.date.fromisoformat(DAY2)

    assert (insights.typed[d1], insights.fallback[d1], insights.did_you_mean[d1]) == (
        4,
        1,
        1,
    )
    assert (insights.typed[d2], insights.fallback[d2], insights.did_you_mean[d2]) == (
        2,
        1,
        0,
    )


def test_handoffs_and_refusals(insights):
    d1 = dt.date.fromisoformat(DAY1)

    assert insights.handoffs == {d1: 1}
    assert insights.refusals == {d1: 1}
    assert insights.conversations_with_handoff == 1


def test_ratings_per_topic_last_one_counts(insights):
    assert insights.feedback_asked == {K2: 2, ZON: 1}
    assert insights.helpful == {K2: 2}
    assert insights.not_helpful == {ZON: 1}


def test_confidence_distribution_and_median_length(insights):
    bins = insights.confidence
    assert sum(bins) == 6  # typed messages
    assert bins[int(0.41 * 20)] == 1 and bins[int(0.62 * 20)] == 1
    assert sorted(insights.lengths.elements()) == [2, 2, 3, 4]
    assert insights.median_length() == 2.5


def test_report_page_and_csv_files(insights, tmp_path):
    page = write_report(insights, tmp_path, examples=5, source="test")

    html = page.read_text(encoding="utf-8")
    images = re.findall(r'<img[^>]+src="([^"]+)"', html)
    assert len(images) == 7
    assert all(src.startswith("data:image/png;base64,") for src in images)
    assert "http://" not in html and "https://" not in html  # self-contained
    assert "<script" not in html
    assert "Wat bezoekers vragen" in html and "Gesprekslengte" in html
    # The not-understood list is de-identified.
    assert "06-12345678" not in html
    assert "bel me op [TELEFOONNUMMER-1]" in html

    with open(tmp_path / "feedback_per_onderwerp.csv", encoding="utf-8-sig") as f:
        rows = {r["onderwerp"]: r for r in csv.DictReader(f)}
    assert (rows[ZON]["nuttig"], rows[ZON]["niet_nuttig"]) == ("0", "1")
    assert rows[K2]["nuttig_pct"] == "100,0 %"
    with open(tmp_path / "fallback_per_dag.csv", encoding="utf-8-sig") as f:
        daily = list(csv.DictReader(f))
    assert [d["dag"] for d in daily] == [DAY1, DAY2]
    assert daily[0]["niet_begrepen_pct"] == "25,0 %"
    assert (tmp_path / "insights.html").stat().st_mode & 0o077 == 0


def test_conversations_are_handed_on_when_over_not_at_the_end(db, monkeypatch):
    """Memory stays bounded: an idle conversation leaves before later rows are read."""
    pulled = []
    original = events_module._rows

    def counting(*args, **kwargs):
        for row in original(*args, **kwargs):
            pulled.append(row)
            yield row

    monkeypatch.setattr(events_module, "_rows", counting)
    engine = sa.create_engine(f"sqlite:///{db}")
    seen = []
    for conversation in read_conversations(engine, at(DAY1, 0), at(DAY2, 23), 1.0, 3):
        seen.append((conversation.conversation_id, len(pulled)))

    assert [s for s, _ in seen] == [
        "socketio:aaaa",
        "whatsapp:+31611111111",
        "rest:bbbb",
        "rest:cccc",
    ]
    total = len(pulled)
    # Day 1's conversations were complete long before the last row was read.
    assert seen[0][1] < total and seen[1][1] < total


def test_command_line_writes_the_report(db, tmp_path, capsys):
    args = ["--db", str(db), "--van", DAY1, "--tot", DAY2, "--out", str(tmp_path)]
    assert main(args) == 0

    out = capsys.readouterr().out
    assert "Gesprekken: 4" in out
    assert (tmp_path / "insights.html").exists()


def test_a_missing_database_is_a_dutch_error(tmp_path):
    with pytest.raises(SystemExit, match="FOUT: de gespreksdatabase"):
        main(["--db", str(tmp_path / "geen.db"), "--out", str(tmp_path)])
    assert not (tmp_path / "geen.db").exists()
