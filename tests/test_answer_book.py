"""Tests of the answer-book export (staff/answer_book.py)."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import html
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path
from typing import Dict, List

import pytest

from faq.content import CONTENT_TOPIC_IDS
from staff import answer_book as ab
from tests.helpers import ROOT

UTF8_BOM = b"\xef\xbb\xbf"


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("answer-book")
    assert ab.main(["--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def rows(book) -> List[Dict[str, str]]:
    with (book / ab.CSV_NAME).open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def page(book) -> str:
    return (book / ab.HTML_NAME).read_text(encoding="utf-8")


# --- CSV -------------------------------------------------------------------------


def test_csv_starts_with_bom_and_quotes_everything(book):
    raw = (book / ab.CSV_NAME).read_bytes()
    assert raw.startswith(UTF8_BOM)
    assert raw[len(UTF8_BOM) :].startswith(b'"topic_id","titel",')
    assert b'"\r\n"' in raw  # CRLF between quoted records


def test_csv_has_the_columns_and_every_topic_once(rows):
    assert list(rows[0]) == list(ab.CSV_COLUMNS)
    ids = [row["topic_id"] for row in rows]
    assert sorted(ids) == sorted(CONTENT_TOPIC_IDS)
    assert len(ids) == len(set(ids)) == 17


def test_csv_text_matches_the_content_with_dutch_characters(rows, content):
    by_id = {row["topic_id"]: row for row in rows}
    for topic in content.topics.values():
        row = by_id[topic.id]
        assert row["titel"] == topic.title
        assert row["voorbeeldvragen"] == " | ".join(topic.questions)
        assert row["kort_antwoord"] == topic.short
        assert row["lang_antwoord"] == topic.long
        assert row["bron_nummers"] == ", ".join(str(n) for n in topic.sources)
    non_ascii = [
        (topic.id, text)
        for topic in content.topics.values()
        for text in (topic.title, topic.short, topic.long)
        if re.search(r"[^\x00-\x7f]", text)
    ]
    assert non_ascii, "the content has Dutch characters such as ë, é or ’"
    for topic_id, text in non_ascii:
        assert text in (
            by_id[topic_id]["kort_antwoord"],
            by_id[topic_id]["lang_antwoord"],
            by_id[topic_id]["titel"],
        )


def test_csv_sources_name_label_and_url(rows, content):
    by_id = {row["topic_id"]: row for row in rows}
    for topic in content.topics.values():
        lines = by_id[topic.id]["bronnen"].split("\n")
        for source in content.sources_of(topic):
            why = topic.source_reasons[source.number]
            assert (
                f"[{source.number}] {source.label} {source.url} (waarom: {why})"
            ) in lines
        if topic.sources_note:
            assert topic.sources_note in lines
        else:
            assert len(lines) == len(topic.sources)
    all_urls = by_id["bronnen"]["bronnen"]
    for source in content.sources.values():
        assert source.url in all_urls


# --- HTML ------------------------------------------------------------------------


class _Collector(HTMLParser):
    """Collects ids, hrefs and tag names of an HTML page."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: List[str] = []
        self.hrefs: List[str] = []
        self.tags: List[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)
        values = dict(attrs)
        if "id" in values:
            self.ids.append(values["id"])
        if "href" in values:
            self.hrefs.append(values["href"])


def parse(page: str) -> _Collector:
    collector = _Collector()
    collector.feed(page)
    return collector


def test_html_has_toc_and_a_section_per_topic(page, content):
    parsed = parse(page)
    for topic_id in CONTENT_TOPIC_IDS:
        assert f'href="#{topic_id}"' in page
        assert parsed.ids.count(topic_id) == 1
    assert len(parsed.ids) == len(set(parsed.ids)), "ids are unique"
    for href in parsed.hrefs:
        if href.startswith("#"):
            assert href[1:] in parsed.ids, f"dangling anchor {href}"


def test_html_is_self_contained_dutch_and_printable(page, content):
    parsed = parse(page)
    assert "<script" not in page.lower()
    assert "link" not in parsed.tags and "img" not in parsed.tags
    assert not re.search(r"""(?:src|@import|url\()\s*=?\s*["']?https?:""", page)
    assert '<html lang="nl">' in page
    assert "@media print" in page
    assert f"<title>Antwoordenboek: {content.article_title}</title>" in page
    assert ab.dutch_date(content.article_date) in page
    assert ab.dutch_date("2025-11-13") == "13 november 2025"


def test_html_contains_all_sources_with_urls(page, content):
    parsed = parse(page)
    for source in content.sources.values():
        assert source.url in parsed.hrefs
        assert f">{source.url}</a>" in page
    section = page[page.index('id="bronnen-lijst"') :]
    assert section.count("<li") == len(content.sources) == 15


def _source_entry(page: str, number: int) -> str:
    start = page.index(f'<li id="bron-{number}"')
    return page[start : page.index("</li>", start)]


def test_html_says_sources_4_and_11_are_the_same_paper(page, content):
    assert content.sources[4].url == content.sources[11].url
    assert content.same_publication(4) == [11]
    assert content.same_publication(11) == [4]
    assert "Zelfde publicatie als bron 11" in _source_entry(page, 4)
    assert "Zelfde publicatie als bron 4" in _source_entry(page, 11)
    assert 'value="4"' in page and 'value="11"' in page, "both numbers are kept"
    others = [n for n in content.sources if n not in (4, 11)]
    assert all("Zelfde publicatie" not in _source_entry(page, n) for n in others)


def test_html_prints_no_citation_the_article_does_not_give(page, content):
    """Source 15 is a link and a description in the article, nothing more."""
    assert content.sources[15].citation is None
    entry = _source_entry(page, 15)
    assert "alleen de link en de beschrijving" in entry
    assert "None" not in entry


def test_html_shows_why_each_source_fits_its_topic(page, content):
    for topic in content.topics.values():
        section = page[page.index(f'<section class="topic" id="{topic.id}"') :]
        section = section[: section.index("</section>")]
        for number in topic.sources:
            why = html.escape(topic.source_reasons[number], quote=True)
            assert f"Waarom: {why}" in section, (topic.id, number)
        if topic.sources_note:
            assert html.escape(topic.sources_note) in section


def test_html_keeps_bullets_and_dutch_characters(page, content):
    topic = content.topic("vitamine_d_tekort_gevolgen")
    bullets = [line[2:] for line in topic.long.split("\n") if line.startswith("- ")]
    assert bullets
    for bullet in bullets:
        assert f"<li>{html.escape(bullet)}</li>" in page
    for source in content.sources.values():
        assert html.escape(source.label) in page
        assert html.escape(source.summary) in page
    assert any("’" in source.label for source in content.sources.values())
    assert "’" in page, "typographic apostrophe kept as-is, not mangled"


def test_html_escapes_content(content):
    topic = dataclasses.replace(
        content.topics["vitamine_k2"],
        short="<b>x</b> & <script>alert(1)</script>",
        title='Titel "met" <i>tags</i>',
    )
    evil = dataclasses.replace(content, topics={**content.topics, topic.id: topic})
    page = ab.render_html(evil, dt.date(2025, 11, 20))
    assert "&lt;b&gt;x&lt;/b&gt; &amp; &lt;script&gt;" in page
    assert "<b>x</b>" not in page
    assert "<script" not in page
    assert "<i>tags</i>" not in page
    assert "20 november 2025" in page


def test_text_to_html_paragraphs_and_lists():
    result = ab.text_to_html("Eerste\nregel\n- een\n- <twee>\nslot\n\nNieuw")
    assert result == (
        "<p>Eerste<br>\nregel</p>\n<ul><li>een</li><li>&lt;twee&gt;</li></ul>\n"
        "<p>slot</p>\n<p>Nieuw</p>"
    )


# --- CLI -------------------------------------------------------------------------


def test_cli_prints_one_line_per_file(tmp_path):
    out = tmp_path / "nieuw" / "map"
    proc = subprocess.run(
        [sys.executable, "-m", "staff.answer_book", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert len(lines) == 2
    assert str(out / ab.CSV_NAME) in lines[0] and "17" in lines[0]
    assert str(out / ab.HTML_NAME) in lines[1] and "17" in lines[1]
    assert (out / ab.CSV_NAME).exists() and (out / ab.HTML_NAME).exists()


def test_default_out_dir_is_relative_to_the_repo():
    assert ab.DEFAULT_OUT_DIR == ROOT / "reports" / "answer-book"
