"""End to end: real conversations feed insights, and a review teaches the bot.

Starts the real stack (action server + Rasa server, fresh SQLite tracker
store) and, in one conversation flow:

1. a visitor rates an answer with its "Ja" button, another is handed off to
   customer service, and a third message falls back ("niet begrepen");
2. the insights read from that tracker store count exactly that;
3. the review queue holds the fallen-back message; a reviewer assigns it a
   topic over the review page's HTTP API, which appends it to a copy of
   ``data/nlu/review.yml``;
4. the model is retrained from that data and the Rasa server restarted on it;
   the same message is now answered with the assigned topic.

Step 4 trains with the project's own ``config.yml`` (about half a minute).
Needs a trained model (``make train``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import shutil
import subprocess

import aiohttp
import pytest
import sqlalchemy as sa
from aiohttp import web

from staff.events import epoch_range, read_conversations
from staff.insights import read_insights, write_report
from staff.review import (
    ReviewSession,
    build_app,
    build_groups,
    collect,
    training_examples,
    training_text,
)
from tests.helpers import ROOT, free_port
from tools.stack import BIN, MODEL, Stack

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.skipif(not MODEL.exists(), reason="no trained model: run make train"),
]

#: Messages the current model does not understand, and the topic they ask
#: about; the first that falls back is reviewed.
CANDIDATES = [
    (
        "werkt die kalk-vitamine beter met dat spiermineraal",
        "magnesium_activeert_vitamine_d",
    ),
    ("zonnebankje voor de d dan maar", "vitamine_d_zonlicht"),
    ("bruin worden onder de hoogtezon goed voor d", "vitamine_d_zonlicht"),
    ("vriendje zegt d zonder k is gevaarlijk", "vitamine_k2"),
    ("ik lees overal iets anders over die twee pillen", "samenwerking_mg_d"),
    ("klopt het dat je van die mineraal-druppels beter slaapt", "magnesium_vormen"),
]


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("review-loop"))
    stack.start_actions()
    stack.start_rasa()
    yield stack
    stack.stop()


def topic(messages):
    return messages[0]["custom"]["topic"]


def retrain(data, out):
    """Trains a model from ``data`` with the project's config; returns its path."""
    config_file = ROOT / "config.yml"
    spacy_model = subprocess.run(
        [str(BIN / "python"), "scripts/spacy_pipeline.py", "which"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    env = {
        **os.environ,
        "RASA_SPACY_MODEL": spacy_model,
        "RASA_TELEMETRY_ENABLED": "false",
    }
    subprocess.run(
        [
            str(BIN / "rasa"),
            "train",
            "--config",
            str(config_file),
            "--domain",
            str(ROOT / "domain.yml"),
            "--data",
            str(data),
            "--out",
            str(out),
            "--fixed-model-name",
            "na-review",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        timeout=1500,
        stdout=subprocess.DEVNULL,
    )
    return out / "na-review.tar.gz"


async def decide_over_http(session, group_id, topic_id):
    port = free_port()
    secret = "eenmalig-geheim-van-de-test"
    runner = web.AppRunner(build_app(session, secret, port))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with aiohttp.ClientSession() as client:
            async with client.post(
                f"http://127.0.0.1:{port}/api/besluit",
                json={"groep": group_id, "besluit": "onderwerp", "onderwerp": topic_id},
                headers={"Authorization": f"Bearer {secret}"},
            ) as response:
                return response.status, await response.json()
    finally:
        await runner.cleanup()


def test_real_conversations_feed_insights_and_a_review_teaches_the_bot(stack, tmp_path):
    # 1. Real conversations over REST.
    answer = stack.send("beoordeelt", "waarom d3 samen met k2?")
    assert topic(answer) == "vitamine_k2"
    question = answer[-1]
    assert question["custom"]["feedback"] == "vraag"
    assert [b["title"] for b in question["buttons"]] == ["Ja", "Nee"]
    thanks = stack.send("beoordeelt", question["buttons"][0]["payload"])
    assert thanks[0]["custom"]["topic"] == "vitamine_k2"
    assert thanks[0]["custom"]["feedback"] == "nuttig"

    stack.send("wil-iemand", "welke vorm van magnesium is het beste")
    handoff = stack.send("wil-iemand", "ik wil een medewerker spreken")
    assert handoff[0]["custom"]["handoff"] is True

    for text, expected in CANDIDATES:
        if topic(stack.send(f"onbegrepen-{expected}", text)) == "fallback":
            break
    else:
        pytest.fail("no candidate message falls back any more: add a new one")

    # 2. Insights from the tracker store the server wrote.
    engine = sa.create_engine(f"sqlite:///{stack.db}")
    today = dt.date.today()
    insights = read_insights(
        engine, today - dt.timedelta(days=1), today + dt.timedelta(days=1)
    )
    assert insights.helpful == {"vitamine_k2": 1}
    assert sum(insights.handoffs.values()) == 1
    assert sum(insights.fallback.values()) >= 1
    assert insights.channels() == ["rest-api"]
    page = write_report(insights, tmp_path / "rapport", source="e2e")
    assert "vitamine" in page.read_text(encoding="utf-8").lower()

    # 3. The review queue, and a reviewer's decision over HTTP.
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    start, end = epoch_range(today - dt.timedelta(days=1), today + dt.timedelta(days=1))
    groups = build_groups(
        collect(read_conversations(engine, start, end), 0.8),
        training_examples(data / "nlu"),
    )
    group = next(g for g in groups if text in [m.text for m in g.messages])
    assert "fallback" in group.reasons
    session = ReviewSession(
        groups,
        "e2e",
        "vandaag",
        review_file=data / "nlu" / "review.yml",
        decisions_file=tmp_path / "besluiten.jsonl",
        new_topics_file=tmp_path / "nieuw.csv",
    )
    status, result = asyncio.run(decide_over_http(session, group.id, expected))
    assert status == 200, result
    added = (data / "nlu" / "review.yml").read_text(encoding="utf-8")
    assert f"- intent: {expected}" in added and training_text(text) in added

    # 4. Retrain, restart, ask again.
    model = retrain(data, tmp_path)
    stack.stop_rasa()
    stack.model = model
    stack.start_rasa()
    assert topic(stack.send("na-de-review", text)) == expected
    assert topic(stack.send("controle", "waarom d3 samen met k2?")) == "vitamine_k2"
