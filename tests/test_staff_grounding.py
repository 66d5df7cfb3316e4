"""The review page generator behind ``make grounding`` (without a browser)."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path
from typing import List

from faq.content import Sentence
from faq.grounding import coverage
from staff import grounding as page
from tests.helpers import ROOT

SENTENCE = (
    "Goede voedingsbronnen van magnesium zijn groene bladgroenten zoals spinazie "
    "en boerenkool, noten en zaden, volle granen, pure cacao en zeewier."
)


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: List[str] = []

    def handle_starttag(self, tag, attrs) -> None:
        self.tags.append(tag)


def weakened(tmp_path: Path) -> Path:
    path = tmp_path / "kennisbank.yml"
    text = (ROOT / "content" / "kennisbank.yml").read_text(encoding="utf-8")
    path.write_text(
        text.replace(SENTENCE, SENTENCE[:-1] + ", en ze genezen vermoeidheid snel."),
        encoding="utf-8",
    )
    return path


def test_the_real_content_has_no_weak_sentence(tmp_path, capsys, content):
    assert page.main(["--out", str(tmp_path)]) == 0

    total = sum(len(t.sentences()) for t in content.topics.values())
    out = capsys.readouterr().out
    assert f"({total} zinnen, 0 zwak" in out and "drempel 80 %" in out
    html = (tmp_path / page.PAGE_NAME).read_text(encoding="utf-8")
    assert html.count("<tr class=") == total
    parsed = Tags()
    parsed.feed(html)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert "http" not in html.split("<main>")[0], "no external resources"


def test_a_weak_sentence_fails_the_command_and_is_named(tmp_path, capsys):
    code = page.main(["--out", str(tmp_path), "--content", str(weakened(tmp_path))])

    assert code == 1
    err = capsys.readouterr().err
    assert "ZWAK: magnesium_voeding short[0]" in err and "genezen" in err
    assert (tmp_path / page.PAGE_NAME).exists(), "the page is written anyway"


def test_a_broken_content_file_fails_with_the_loaders_message(tmp_path, capsys):
    broken = tmp_path / "kennisbank.yml"
    broken.write_text("topics: [", encoding="utf-8")

    assert page.main(["--out", str(tmp_path), "--content", str(broken)]) == 1
    assert "ongeldige YAML" in capsys.readouterr().err


def test_rows_escape_text_and_mark_only_uncovered_words(content):
    topic = content.topics["magnesium_voeding"]
    sentence = Sentence(
        text="Noten genezen & zaden <b>ook</b>.", basis=("<i>noten</i>",)
    )
    row = page.Row(
        topic, "short", "short[0]", sentence, coverage(sentence.text, sentence.basis)
    )

    html = page.render_row(row)
    assert "<b>" not in html and "<i>" not in html
    assert "&lt;b&gt;" in html and "&amp;" in html
    assert "<mark>genezen</mark>" in html and "<mark>zaden</mark>" in html
    assert "<mark>Noten</mark>" not in html
    assert 'class="zwak"' in html
