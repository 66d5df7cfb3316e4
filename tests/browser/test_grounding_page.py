"""The grounding review page (``make grounding``) in real headless Chromium.

Writes the page for the real content and for a copy with one weakened
sentence, opens both from disk in Debian's Chromium (``/usr/bin/chromium``)
with Playwright, and checks what a reviewer sees: every answer sentence beside
its basis, nothing weak in the real content, the weak sentence highlighted with
its unsupported words marked. Needs no servers and no model; saves a screenshot
to ``tests/artifacts/grounding.png`` and ``docs/grounding.png``.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from faq.content import load_content
from staff.grounding import write_page
from tests.browser.conftest import needs_chromium
from tests.helpers import ROOT

sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = [
    pytest.mark.browser,
    pytest.mark.e2e,
    needs_chromium,
]

ARTIFACT = ROOT / "tests" / "artifacts" / "grounding.png"
README_SCREENSHOT = ROOT / "docs" / "grounding.png"
WEAK_TOPIC, WEAK_FIELD = "magnesium_voeding", "short[0]"
ADDED_CLAIM = "en ze genezen vermoeidheid snel"


def open_page(browser: Any, path: Path) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(path.as_uri())
    return page


def test_every_sentence_stands_beside_its_basis(browser, tmp_path, content):
    path = tmp_path / "grounding.html"
    rows = write_page(content, path)
    page = open_page(browser, path)
    try:
        assert page.locator("h1").inner_text() == "Onderbouwing van de antwoorden"
        shown = page.locator("tbody tr")
        total = sum(len(t.sentences()) for t in content.topics.values())
        assert shown.count() == len(rows) == total
        per_row = page.eval_on_selector_all(
            "tbody tr",
            "rows => rows.map(r => [r.querySelector('td.sentence').innerText,"
            " r.querySelectorAll('td.basis li').length])",
        )
        expected = [r.sentence.text for r in rows]
        assert [text for text, _ in per_row] == expected
        assert all(quotes >= 1 for _, quotes in per_row), "no sentence without basis"
        assert page.locator("tr.zwak").count() == 0
        assert "0 zwak" in page.locator("#samenvatting").inner_text()
        for topic in content.topics.values():
            assert page.locator(f"section#{topic.id} h2").count() == 1

        page.locator("#disbalans_mg_d").scroll_into_view_if_needed()
        page.evaluate("document.getElementById('disbalans_mg_d').scrollIntoView()")
        ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACT))
        README_SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ARTIFACT, README_SCREENSHOT)
    finally:
        page.context.close()


def test_a_weak_sentence_is_highlighted_with_its_unsupported_words(browser, tmp_path):
    source = (ROOT / "content" / "kennisbank.yml").read_text(encoding="utf-8")
    sentence = (
        "Goede voedingsbronnen van magnesium zijn groene bladgroenten zoals spinazie "
        "en boerenkool, noten en zaden, volle granen, pure cacao en zeewier."
    )
    assert source.count(sentence) == 1
    weakened = tmp_path / "kennisbank.yml"
    weakened.write_text(
        source.replace(sentence, sentence[:-1] + f", {ADDED_CLAIM}."), encoding="utf-8"
    )
    path = tmp_path / "grounding.html"
    write_page(load_content(weakened), path)
    page = open_page(browser, path)
    try:
        row = page.locator(f'tr[data-topic="{WEAK_TOPIC}"][data-field="{WEAK_FIELD}"]')
        assert row.get_attribute("class") == "zwak"
        assert page.locator("tr.zwak").count() == 1
        background = row.locator("td.sentence").evaluate(
            "cell => getComputedStyle(cell).backgroundColor"
        )
        assert background == "rgb(255, 217, 217)"
        marked = row.locator("mark").all_inner_texts()
        assert {"genezen", "vermoeidheid", "snel"} <= set(marked)
        assert "spinazie" not in marked
        assert "1 zwak" in page.locator("#samenvatting").inner_text()
        assert (
            "(zwak)"
            in page.locator(f'nav a[href="#{WEAK_TOPIC}"] >> xpath=..').inner_text()
        )
    finally:
        page.context.close()
