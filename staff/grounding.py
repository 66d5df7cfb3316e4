"""Writes the grounding review page: each answer sentence beside its basis.

For an editor or a medical reviewer. Every sentence of every ``short`` and
``long`` answer in ``content/kennisbank.yml`` is shown beside the article
sentences it rests on (its ``basis``), with the share of its content words that
the basis covers (lemmas from the project's Dutch spaCy pipeline count as
matches, see :func:`faq.grounding.coverage`). Words the basis does not cover
are marked; a sentence below the threshold, or with a number that is not in its
basis, is highlighted as weak. Each topic also lists its sources with the
reason (``why``) they were chosen.

The page is self-contained (no scripts, no external resources) and printable.

Usage:
    python -m staff.grounding [--out DIR] [--content FILE]

``DIR`` defaults to ``reports/grounding``. Exit code 0 when every sentence is
well covered, 1 when some are weak (the page is written anyway) or the content
file is broken, so the command can guard an editor's change.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Optional, Sequence, Text

from faq import grounding
from faq.content import Content, ContentError, Sentence, Topic, load_content
from faq.grounding import COVERAGE_THRESHOLD, Coverage, coverage
from faq.settings import PROJECT_DIR

DEFAULT_OUT_DIR = PROJECT_DIR / "reports" / "grounding"
PAGE_NAME = "grounding.html"

CSS = """
:root { color-scheme: light; }
body { font-family: Arial, Helvetica, sans-serif; color: #1a1a1a; margin: 1.5rem;
       line-height: 1.45; }
h1 { font-size: 1.6rem; margin: 0 0 0.3rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 0.4rem; border-top: 2px solid #ccc;
     padding-top: 0.8rem; }
h3 { font-size: 1rem; margin: 1rem 0 0.3rem; color: #444; }
.meta, .legend { color: #444; margin: 0.2rem 0; max-width: 60rem; }
.summary { font-size: 1.05rem; margin: 0.8rem 0; }
.summary strong.weak { color: #a40000; }
table { border-collapse: collapse; width: 100%; table-layout: fixed; }
th, td { border: 1px solid #ccc; padding: 0.35rem 0.5rem; vertical-align: top;
         text-align: left; }
th { background: #f0f0f0; }
col.nr { width: 6.5rem; } col.cov { width: 5.5rem; }
td.basis ul { margin: 0; padding-left: 1.1rem; }
td.basis li { font-family: Georgia, "Times New Roman", serif; color: #333; }
td.coverage { text-align: right; font-variant-numeric: tabular-nums; }
tr.zwak td { background: #ffd9d9; }
tr.zwak td.coverage { color: #a40000; font-weight: bold; }
tr.let-op td.sentence { background: #fff6d6; }
mark { background: #ffb347; padding: 0 0.1rem; }
.field { font-family: "Courier New", monospace; font-size: 0.85rem; color: #555; }
nav ol { columns: 2; }
.sources li { margin-bottom: 0.2rem; }
@media print {
  body { margin: 0; font-size: 9.5pt; }
  h2 { page-break-before: auto; }
  tr { page-break-inside: avoid; }
}
"""


@dataclass(frozen=True)
class Row:
    """One answer sentence with its basis and how well the basis covers it."""

    topic: Topic
    answer: Text
    field: Text
    sentence: Sentence
    coverage: Coverage

    @property
    def weak(self) -> bool:
        """Below the threshold, or a number that is not in the basis."""
        return self.coverage.weak()


def review_rows(content: Content) -> List[Row]:
    """Measures every answer sentence of the content against its basis.

    Args:
        content: The validated content.

    Returns:
        One row per sentence, in file order.
    """
    return [
        Row(topic, answer, field, sentence, coverage(sentence.text, sentence.basis))
        for topic in content.topics.values()
        for answer, field, sentence in topic.sentences()
    ]


def marked_sentence(row: Row) -> Text:
    """The sentence as escaped HTML with uncovered words in ``<mark>``."""
    text = row.sentence.text
    parts: List[Text] = []
    position = 0
    for word in row.coverage.words:
        if word.covered:
            continue
        parts.append(html.escape(text[position : word.start]))
        end = word.start + len(word.text)
        parts.append(f"<mark>{html.escape(text[word.start : end])}</mark>")
        position = end
    parts.append(html.escape(text[position:]))
    return "".join(parts)


def percent(share: float) -> Text:
    """A share as a whole Dutch percentage, e.g. ``83 %``."""
    return f"{round(share * 100)} %"


def render_row(row: Row) -> Text:
    """Renders one table row."""
    esc = html.escape
    state = "zwak" if row.weak else ("let-op" if row.coverage.uncovered else "ok")
    basis = "".join(f"<li>{esc(quote)}</li>" for quote in row.sentence.basis)
    return (
        f'<tr class="{state}" data-topic="{esc(row.topic.id, quote=True)}" '
        f'data-field="{esc(row.field, quote=True)}" '
        f'data-coverage="{row.coverage.share:.3f}">'
        f'<td><span class="field">{esc(row.field)}</span></td>'
        f'<td class="sentence">{marked_sentence(row)}</td>'
        f'<td class="basis"><ul>{basis}</ul></td>'
        f'<td class="coverage">{percent(row.coverage.share)}</td></tr>'
    )


def render_table(rows: Sequence[Row]) -> Text:
    """Renders the table of one answer (short or long) of a topic."""
    body = "\n".join(render_row(row) for row in rows)
    return (
        '<table><colgroup><col class="nr"><col><col><col class="cov"></colgroup>'
        "<thead><tr><th>Veld</th><th>Antwoordzin</th>"
        "<th>Basis: letterlijk uit het artikel</th><th>Dekking</th></tr></thead>"
        f"<tbody>\n{body}\n</tbody></table>"
    )


def render_topic(topic: Topic, rows: Sequence[Row], content: Content) -> Text:
    """Renders the section of one topic: short, long and sources."""
    esc = html.escape
    own = [row for row in rows if row.topic.id == topic.id]
    weak = sum(row.weak for row in own)
    lowest = min(row.coverage.share for row in own)
    sources = "".join(
        f"<li>{esc(content.sources[n].reference())}: "
        f"{esc(topic.source_reasons.get(n, ''))}</li>"
        for n in topic.sources
    )
    sources_html = (
        f'<ul class="sources">{sources}</ul>'
        if sources
        else f"<p>{esc(topic.sources_note or '')}</p>"
    )
    return f"""<section id="{esc(topic.id, quote=True)}">
<h2>{esc(topic.title)} <span class="field">{esc(topic.id)}</span></h2>
<p class="meta">{len(own)} zinnen, {weak} zwak, laagste dekking {percent(lowest)}.</p>
<h3>Kort antwoord</h3>
{render_table([row for row in own if row.answer == "short"])}
<h3>Lang antwoord</h3>
{render_table([row for row in own if row.answer == "long"])}
<h3>Bronnen uit de bronnenlijst van het artikel, en waarom</h3>
{sources_html}
</section>"""


def render_page(
    content: Content, rows: Sequence[Row], generated: Optional[dt.datetime] = None
) -> Text:
    """Renders the whole review page.

    Args:
        content: The validated content.
        rows: Its measured sentences (:func:`review_rows`).
        generated: The time printed on the page; defaults to now.

    Returns:
        A self-contained HTML document in which all content is escaped.
    """
    esc = html.escape
    generated = generated or dt.datetime.now()
    weak = sum(row.weak for row in rows)
    lowest = min(row.coverage.share for row in rows)
    mean = sum(row.coverage.share for row in rows) / len(rows)
    toc = "\n".join(
        f'<li><a href="#{esc(t.id, quote=True)}">{esc(t.title)}</a>'
        f"{' (zwak)' if any(r.weak for r in rows if r.topic.id == t.id) else ''}</li>"
        for t in content.topics.values()
    )
    topics = "\n".join(render_topic(t, rows, content) for t in content.topics.values())
    weak_html = f'<strong class="weak">{weak} zwak</strong>' if weak else "0 zwak"
    article = content.article.path.name if content.article else "?"
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Onderbouwing van de antwoorden: {esc(content.article_title)}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>Onderbouwing van de antwoorden</h1>
<p class="meta">Artikel: {esc(content.article_title)} ({esc(article)}). Contentbestand
{esc(content.path.name)}, versie {esc(content.version)}. Gemaakt op
{esc(generated.strftime("%d-%m-%Y %H:%M"))}.</p>
<p class="summary" id="samenvatting">{len(rows)} antwoordzinnen, {weak_html};
laagste dekking {percent(lowest)}, gemiddeld {percent(mean)}; drempel
{percent(COVERAGE_THRESHOLD)}.</p>
<p class="legend">Elke antwoordzin staat naast zijn basis: de zinnen uit het artikel
waarop hij rust, letterlijk geciteerd (de lader controleert dat elk citaat zo in het
artikel staat). <em>Dekking</em> is het deel van de inhoudswoorden van de zin dat in
de basis voorkomt; woordvormen met hetzelfde lemma (spaCy-pipeline
{esc(grounding.pipeline_name())}) en samenstellingen tellen mee, verwijzingen als
"volgens het artikel" niet. <mark>Gemarkeerde</mark> woorden staan niet in de basis.
Een rode rij is zwak: onder de drempel, of met een getal dat niet in de basis staat.
Een gele zin heeft woorden zonder basis, maar haalt de drempel: lees hem na.</p>
</header>
<nav><h2>Onderwerpen</h2><ol>
{toc}
</ol></nav>
<main>
{topics}
</main>
</body>
</html>
"""


def write_page(content: Content, path: Path) -> List[Row]:
    """Measures the content and writes the page; returns the rows."""
    rows = review_rows(content)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_page(content, rows), encoding="utf-8")
    return rows


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs ``make grounding``; prints one summary line."""
    parser = argparse.ArgumentParser(
        description="Schrijft de reviewpagina: elke antwoordzin naast zijn basis."
    )
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT_DIR)
    parser.add_argument("--content", type=Path, default=None)
    args = parser.parse_args(argv)
    try:
        content = load_content(args.content)
    except ContentError as error:
        print(error, file=sys.stderr)
        return 1
    path = args.out / PAGE_NAME
    rows = write_page(content, path)
    weak = [row for row in rows if row.weak]
    print(
        f"Geschreven: {path} ({len(rows)} zinnen, {len(weak)} zwak, laagste dekking "
        f"{percent(min(r.coverage.share for r in rows))}, drempel "
        f"{percent(COVERAGE_THRESHOLD)}, pipeline {grounding.pipeline_name()})"
    )
    for row in weak:
        print(
            f"ZWAK: {row.topic.id} {row.field} ({percent(row.coverage.share)}): "
            f"zonder basis: {', '.join(row.coverage.uncovered)}",
            file=sys.stderr,
        )
    return 1 if weak else 0


if __name__ == "__main__":
    sys.exit(main())
