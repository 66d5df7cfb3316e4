"""make review: the queue, grouping, de-identification, decisions, the local page."""

from __future__ import annotations

import json

import aiohttp
import pytest
import sqlalchemy as sa
import yaml
from aiohttp import web
from rasa.shared.nlu.training_data.formats.rasa_yaml import RasaYAMLReader

from staff import review
from staff.events import read_conversations
from staff.review import (
    ReviewSession,
    build_app,
    build_groups,
    collect,
    key_of,
    training_examples,
    training_text,
)
from tests.conversations import T, at, events_of, rating_turn, save
from tests.helpers import ROOT, free_port, looks_dutch_error

DAY = "2026-11-10"
ZON = "vitamine_d_zonlicht"
K2 = "vitamine_k2"


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    path = tmp_path_factory.mktemp("review") / "tracker.db"
    fallback = {
        "intent": "nlu_fallback",
        "ranking": [(ZON, 0.42), ("vitamine_d_supplementen", 0.31), (K2, 0.05)],
        "topic": "fallback",
        "response": "utter_niet_zeker",
    }
    save(
        path,
        [
            # Near-duplicates that fell back, one with a phone number.
            (
                "socketio:a",
                events_of(
                    [T("helpt een zonnebank voor vitamine d?", **fallback)], at(DAY, 9)
                ),
            ),
            (
                "socketio:b",
                events_of(
                    [T("helpt een zonnebankje voor vitamine d", **fallback)],
                    at(DAY, 10),
                ),
            ),
            (
                "whatsapp:+31622222222",
                events_of(
                    [T("zonnebank goed voor vitamine d? bel 06-12345678", **fallback)],
                    at(DAY, 11),
                ),
            ),
            # Low confidence, then a handoff: the question is queued twice over.
            (
                "rest:c",
                events_of(
                    [
                        T("mag ik k2 bij bloedverdunners", K2, 0.61, topic=K2),
                        T("ik wil een medewerker", "medewerker", 0.99, handoff=True),
                    ],
                    at(DAY, 12),
                ),
            ),
            # Marked not helpful; the greeting and the rating are never queued.
            (
                "rest:d",
                events_of(
                    [
                        T("hallo", "groet", 0.99),
                        T("hoe lang in de zon in de winter", ZON, 0.9, topic=ZON),
                        rating_turn(ZON, False),
                    ],
                    at(DAY, 13),
                ),
            ),
            # Well understood, confidently: not queued.
            (
                "rest:e",
                events_of([T("waarom d3 met k2", K2, 0.97, topic=K2)], at(DAY, 14)),
            ),
            # A text already in the training data: left out.
            (
                "rest:f",
                events_of(
                    [T("hoe werken magnesium en vitamine d samen", **fallback)],
                    at(DAY, 15),
                ),
            ),
        ],
    )
    return path


@pytest.fixture(scope="module")
def groups(db):
    engine = sa.create_engine(f"sqlite:///{db}")
    start, end = at(DAY, 0), at(DAY, 23)
    found = collect(read_conversations(engine, start, end), min_confidence=0.8)
    return build_groups(found, training_examples(ROOT / "data" / "nlu"))


def texts(group):
    return [m.text for m in group.messages]


def test_the_queue_holds_the_right_messages_for_the_right_reasons(groups):
    by_text = {m.text: g for g in groups for m in g.messages}

    assert set(by_text) == {
        "helpt een zonnebank voor vitamine d?",
        "helpt een zonnebankje voor vitamine d",
        "zonnebank goed voor vitamine d? bel [TELEFOONNUMMER-1]",
        "mag ik k2 bij bloedverdunners",
        "hoe lang in de zon in de winter",
    }
    assert by_text["mag ik k2 bij bloedverdunners"].reasons == {
        "lage_zekerheid": 1,
        "doorverwezen": 1,
    }
    assert by_text["hoe lang in de zon in de winter"].reasons == {"niet_nuttig": 1}


def test_near_duplicates_are_one_group_with_their_top_three_topics(groups):
    biggest = groups[0]

    assert sorted(texts(biggest)) == sorted(
        [
            "helpt een zonnebankje voor vitamine d",
            "helpt een zonnebank voor vitamine d?",
            "zonnebank goed voor vitamine d? bel [TELEFOONNUMMER-1]",
        ]
    )
    assert biggest.count == 3 and biggest.reasons == {"fallback": 3}
    assert [t for t, _ in biggest.candidates] == [ZON, "vitamine_d_supplementen", K2]
    assert biggest.candidates[0][1] == pytest.approx(0.42)
    assert len(groups) == 3


def test_nothing_personal_reaches_the_queue(groups, tmp_path):
    review.export(groups, tmp_path / "wachtrij.csv")

    exported = (tmp_path / "wachtrij.csv").read_text(encoding="utf-8-sig")
    assert "12345678" not in exported and "31622222222" not in exported
    assert "[TELEFOONNUMMER-1]" in exported
    payload = json.dumps([g.as_json({}) for g in groups])
    assert "12345678" not in payload


def test_training_text_has_no_placeholder_or_entity_markup():
    assert (
        training_text("bel [TELEFOONNUMMER-1] of [x](y)")
        == "bel telefoonnummer of (x)(y)"
    )


@pytest.fixture
def session(groups, tmp_path):
    return ReviewSession(
        groups,
        "SQLite test.db",
        f"{DAY} t/m {DAY}",
        review_file=tmp_path / "review.yml",
        decisions_file=tmp_path / "var" / "besluiten.jsonl",
        new_topics_file=tmp_path / "nieuwe_onderwerpen.csv",
    )


def test_assigning_a_topic_appends_valid_training_data_with_its_origin(
    session, tmp_path
):
    group = session.groups[1]
    result = session.decide(1, "onderwerp", ZON)
    session.decide(2, "buiten_domein")

    assert result["onderwerp"] == ZON and ZON in result["melding"]
    text = (tmp_path / "review.yml").read_text(encoding="utf-8")
    assert "# make review" in text and "SQLite test.db" in text and DAY in text
    examples = RasaYAMLReader().reads(text).training_examples
    assert sorted((e.get("text"), e.get("intent")) for e in examples) == sorted(
        [(training_text(m.text), ZON) for m in group.messages]
        + [(training_text(m.text), "buiten_domein") for m in session.groups[2].messages]
    )
    assert "zonnebank goed voor vitamine d? bel telefoonnummer" in text
    decisions = (tmp_path / "var" / "besluiten.jsonl").read_text().splitlines()
    assert [json.loads(d)["besluit"] for d in decisions] == [
        "onderwerp",
        "buiten_domein",
    ]
    assert (tmp_path / "var" / "besluiten.jsonl").stat().st_mode & 0o077 == 0
    # Decided messages are not offered again.
    assert {m.key for m in group.messages} <= review.decided(
        tmp_path / "var" / "besluiten.jsonl"
    )


def test_only_the_chosen_messages_are_added(session, tmp_path):
    keep = session.groups[1].messages[0]
    session.decide(1, "onderwerp", ZON, keys=[keep.key])

    examples = RasaYAMLReader().read(str(tmp_path / "review.yml")).training_examples
    assert [e.get("text") for e in examples] == [training_text(keep.text)]


def test_a_new_topic_goes_to_the_editors_not_to_training(session, tmp_path):
    session.decide(3, "nieuw_onderwerp")

    assert not (tmp_path / "review.yml").exists()
    listed = (tmp_path / "nieuwe_onderwerpen.csv").read_text(encoding="utf-8-sig")
    assert session.groups[3].messages[0].text in listed


@pytest.mark.parametrize(
    "args, message",
    [
        ((99, "onderwerp", ZON), "bestaat niet"),
        ((1, "onderwerp", "geen_onderwerp"), "bestaand onderwerp"),
        ((1, "weggooien", None), "Onbekend besluit"),
        ((1, "onderwerp", ZON, ["onbekend"]), "minstens één"),
    ],
)
def test_impossible_decisions_are_refused_in_dutch(session, args, message):
    with pytest.raises(ValueError, match=message):
        session.decide(*args)


def test_the_repository_review_file_is_valid_training_data():
    path = ROOT / "data" / "nlu" / "review.yml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert data["version"] == "3.1"
    RasaYAMLReader().read(str(path))  # raises on invalid data
    assert key_of("Helpt een  zonnebank") == key_of("helpt een zonnebank")


# --- the local page ---------------------------------------------------------------


@pytest.fixture
async def page(session):
    port = free_port()
    secret = "geheim-voor-de-test"
    runner = web.AppRunner(build_app(session, secret, port))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    await site.start()
    async with aiohttp.ClientSession() as client:
        yield client, f"http://127.0.0.1:{port}", {"Authorization": f"Bearer {secret}"}
    await runner.cleanup()


async def test_the_page_itself_holds_no_data_and_locks_down_scripts(page):
    client, url, _ = page
    async with client.get(url + "/") as response:
        html = await response.text()
        assert response.status == 200
        assert "script-src 'self'" in response.headers["Content-Security-Policy"]
    assert "zonnebank" not in html


async def test_the_queue_needs_the_secret(page):
    client, url, auth = page
    async with client.get(url + "/api/wachtrij") as response:
        assert response.status == 401
        assert looks_dutch_error((await response.json())["error"])
    wrong = {"Authorization": "Bearer geraden"}
    async with client.get(url + "/api/wachtrij", headers=wrong) as response:
        assert response.status == 401
    async with client.get(url + "/api/wachtrij", headers=auth) as response:
        queue = await response.json()
    assert [len(g["berichten"]) for g in queue["groepen"]] == [3, 1, 1]
    assert queue["groepen"][0]["kandidaten"][0]["onderwerp"] == ZON


async def test_another_host_name_is_refused(page):
    client, url, auth = page
    headers = {**auth, "Host": "aanvaller.example"}
    async with client.get(url + "/api/wachtrij", headers=headers) as response:
        assert response.status == 403


async def test_a_decision_over_http(page, tmp_path):
    client, url, auth = page
    body = {"groep": 1, "besluit": "onderwerp", "onderwerp": ZON}
    async with client.post(url + "/api/besluit", json=body, headers=auth) as response:
        assert response.status == 200
        assert (await response.json())["onderwerp"] == ZON
    async with client.post(url + "/api/besluit", json=body, headers=auth) as response:
        assert response.status == 409
        assert "al besloten" in (await response.json())["error"]
    assert ZON in (tmp_path / "review.yml").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    "data, content_type, status",
    [
        ("{kapot", "application/json", 400),
        ('["lijst"]', "application/json", 400),
        ('{"groep": "1"}', "application/json", 400),
        ("groep=1", "application/x-www-form-urlencoded", 415),
    ],
)
async def test_bad_requests_get_a_dutch_4xx(page, data, content_type, status):
    client, url, auth = page
    headers = {**auth, "Content-Type": content_type}
    async with client.post(
        url + "/api/besluit", data=data, headers=headers
    ) as response:
        assert response.status == status
        assert looks_dutch_error((await response.json())["error"])


def test_only_loopback_is_allowed():
    assert review.is_loopback("127.0.0.1") and review.is_loopback("::1")
    with pytest.raises(SystemExit):
        review.main(["--host", "0.0.0.0"])


def test_assigned_messages_are_not_offered_again(db, session, tmp_path):
    assigned = {m.text for m in session.groups[1].messages}
    session.decide(1, "onderwerp", ZON)
    nlu = tmp_path / "nlu"
    nlu.mkdir()
    (nlu / "review.yml").write_text((tmp_path / "review.yml").read_text())

    engine = sa.create_engine(f"sqlite:///{db}")
    found = collect(read_conversations(engine, at(DAY, 0), at(DAY, 23)), 0.8)
    offered = {
        m.text for g in build_groups(found, training_examples(nlu)) for m in g.messages
    }

    assert assigned and not offered & assigned
    assert "mag ik k2 bij bloedverdunners" in offered
