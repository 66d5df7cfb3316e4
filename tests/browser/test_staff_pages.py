"""The insights report and the review page in real headless Chromium.

No Rasa servers: the tracker store is generated (``tools.bench_insights``:
the format Rasa writes) plus a few invented conversations with personal data.
Saves ``docs/insights.png`` and ``docs/review.png`` for the README.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa

from staff.events import epoch_range, read_conversations
from staff.insights import read_insights, write_report
from staff.review import ReviewSession, build_app, build_groups, collect
from tests.browser.conftest import needs_chromium
from tests.conversations import T, at, events_of, save
from tests.helpers import ROOT, free_port

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
]

ARTIFACTS = ROOT / "tests" / "artifacts"
DOCS = ROOT / "docs"
LAST = dt.date(2026, 11, 29)
FIRST = LAST - dt.timedelta(days=13)
INJECTION = "<img src=x onerror=alert(1)> werkt magnesium?"
PERSONAL = "ik ben Anna de Jong (06-98765432), helpt een zonnebankje voor vitamine d?"


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    from tools.bench_insights import generate

    path = tmp_path_factory.mktemp("staff-pages") / "tracker.db"
    generate(path, conversations=600, days=14, last_day=LAST)
    fallback = {
        "intent": "nlu_fallback",
        "ranking": [("vitamine_d_zonlicht", 0.44), ("vitamine_d_supplementen", 0.2)],
        "topic": "fallback",
        "response": "utter_niet_zeker",
    }
    # Asked often enough to be among the report's most frequent examples.
    save(
        path,
        [
            (
                f"socketio:{kind}{n}",
                events_of([T(text, **fallback)], at("2026-11-28", n)),
            )
            for n in range(1, 7)
            for kind, text in (("pers", PERSONAL), ("xss", INJECTION))
        ],
    )
    return path


def screenshot(page: Any, name: str, full_page: bool = True) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    shot = ARTIFACTS / name
    page.screenshot(path=str(shot), full_page=full_page)
    DOCS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(shot, DOCS / name)


def test_the_insights_report_shows_its_charts(browser, db, tmp_path):
    insights = read_insights(sa.create_engine(f"sqlite:///{db}"), FIRST, LAST)
    page_file = write_report(insights, tmp_path / "rapport", source="gegenereerd")
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, locale="nl-NL"
    )
    page = context.new_page()
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    errors = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto(page_file.as_uri())

        assert page.title().startswith("Inzichten chatassistent")
        images = page.locator("img.grafiek")
        assert images.count() == 7
        widths = images.evaluate_all(
            "imgs => imgs.map(i => i.complete && i.naturalWidth)"
        )
        assert all(w and w > 300 for w in widths), widths
        kpi = page.locator(".kpi", has_text="Gesprekken").first.locator(".waarde")
        assert kpi.inner_text() == str(insights.total_conversations)
        assert page.locator("h2", has_text="Wat bezoekers vragen").is_visible()
        unclear = page.locator("#onbegrepen").inner_text()
        assert "06-98765432" not in unclear and "Anna de Jong" not in unclear
        assert "[TELEFOONNUMMER-1]" in unclear
        # The injected markup is shown as text, not run.
        assert page.locator("#onbegrepen img").count() == 0
        # Nothing loaded from anywhere but the file itself and its data URIs.
        assert {r.split(":", 1)[0] for r in requests} <= {"file", "data"}
        assert errors == []
        screenshot(page, "insights.png", full_page=False)
    finally:
        context.close()


@pytest.fixture
def review_page(db, tmp_path) -> Iterator[tuple]:
    start, end = epoch_range(FIRST, LAST)
    engine = sa.create_engine(f"sqlite:///{db}")
    groups = build_groups(collect(read_conversations(engine, start, end), 0.8), set())
    session = ReviewSession(
        groups,
        "gegenereerd",
        f"{FIRST} t/m {LAST}",
        review_file=tmp_path / "review.yml",
        decisions_file=tmp_path / "besluiten.jsonl",
        new_topics_file=tmp_path / "nieuw.csv",
    )
    port = free_port()
    secret = "een-eenmalig-geheim"
    loop = asyncio.new_event_loop()
    started = threading.Event()
    holder = {}

    async def start_app() -> None:
        from aiohttp import web

        runner = web.AppRunner(build_app(session, secret, port))
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        holder["runner"] = runner
        started.set()

    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    asyncio.run_coroutine_threadsafe(start_app(), loop)
    assert started.wait(10)
    try:
        yield f"http://127.0.0.1:{port}/", secret, session, tmp_path
    finally:
        asyncio.run_coroutine_threadsafe(holder["runner"].cleanup(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)


def test_the_review_page_assigns_a_topic(browser, review_page):
    url, secret, session, folder = review_page
    context = browser.new_context(
        viewport={"width": 1200, "height": 900}, locale="nl-NL"
    )
    page = context.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    try:
        # Without the secret the page shows a Dutch refusal and no messages.
        page.goto(url)
        page.locator("#kop", has_text="Geen toegang").wait_for()
        assert page.locator(".groep").count() == 0

        page.goto(f"{url}#{secret}")
        page.locator(".groep").first.wait_for()
        assert "#" not in page.url  # the secret left the address bar
        shown = page.locator("#groepen").inner_text()
        assert "06-98765432" not in shown and "Anna de Jong" not in shown
        assert "[TELEFOONNUMMER-1]" in shown
        assert page.locator("#groepen img").count() == 0  # injected markup is text
        assert INJECTION in shown

        card = page.locator(".groep", has_text="[TELEFOONNUMMER-1]")
        candidate = card.locator("button.kandidaat").first
        topic = candidate.get_attribute("title")
        assert topic == "vitamine_d_zonlicht"
        screenshot(page, "review.png", full_page=False)
        candidate.click()
        card.locator(".besluit", has_text="toegevoegd").wait_for()

        added = (folder / "review.yml").read_text(encoding="utf-8")
        assert f"- intent: {topic}" in added
        assert "telefoonnummer" in added and "06-98765432" not in added
        assert dialogs == []
    finally:
        context.close()
