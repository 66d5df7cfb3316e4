"""Writes the answer book for customer-service staff from the content file.

The answer book lists every content topic with its example questions, short and
long answer and sources, in two forms:

* ``antwoordenboek.csv``: one row per topic, UTF-8 with BOM, comma-separated,
  every field quoted, so Excel opens it with Dutch characters intact;
* ``antwoordenboek.html``: a printable, self-contained page (no scripts, no
  external resources) with a table of contents and a list of all sources.

All text comes from ``content/kennisbank.yml`` through :mod:`faq.content`;
nothing is copied into this script.

Usage:
    python scripts/answer_book.py [--out DIR]

``DIR`` defaults to ``reports/answer-book`` in the repository.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from faq.content import (
    Content,
    ContentError,
    Source,
    Topic,
    load_content,
)
from faq.settings import PROJECT_DIR as ROOT

DEFAULT_OUT_DIR = ROOT / "reports" / "answer-book"
CSV_NAME = "antwoordenboek.csv"
HTML_NAME = "antwoordenboek.html"

#: Columns of the CSV file, in order.
CSV_COLUMNS = (
    "topic_id",
    "titel",
    "voorbeeldvragen",
    "kort_antwoord",
    "lang_antwoord",
    "bronnen",
    "bron_nummers",
)

DUTCH_MONTHS = (
    "januari",
    "februari",
    "maart",
    "april",
    "mei",
    "juni",
    "juli",
    "augustus",
    "september",
    "oktober",
    "november",
    "december",
)

CSS = """
:root { color-scheme: light; }
body {
  font-family: Georgia, "Times New Roman", serif;
  line-height: 1.5;
  color: #1a1a1a;
  max-width: 48rem;
  margin: 2rem auto;
  padding: 0 1rem;
}
h1, h2, h3 { font-family: Arial, Helvetica, sans-serif; line-height: 1.25; }
h1 { font-size: 1.8rem; margin-bottom: 0.2rem; }
h2 { font-size: 1.35rem; margin-top: 0; }
h3 { font-size: 1rem; margin: 1rem 0 0.3rem; }
.meta { color: #555; margin-top: 0; }
nav ol { padding-left: 1.5rem; }
section.topic {
  border-top: 2px solid #ccc;
  padding-top: 1rem;
  margin-top: 2rem;
}
.topic-id {
  font-family: "Courier New", monospace;
  font-size: 0.9rem;
  background: #f0f0f0;
  padding: 0.1rem 0.4rem;
  border-radius: 3px;
}
.short { background: #f6f8fa; border-left: 4px solid #4a7; padding: 0.5rem 1rem; }
.short p:first-child, .long p:first-child { margin-top: 0; }
.sources li, .all-sources li { margin-bottom: 0.4rem; }
.why, .twin { color: #444; font-size: 0.92rem; }
a { color: #0645ad; word-break: break-all; }
.back { font-size: 0.85rem; }
@media print {
  body { max-width: none; margin: 0; font-size: 10.5pt; }
  a { color: #000; text-decoration: none; }
  nav { page-break-after: always; }
  section.topic { page-break-inside: avoid; border-top: 1px solid #999; }
  .short { background: none; border-left: 2px solid #000; }
  .back { display: none; }
}
"""


def dutch_date(value: str) -> str:
    """Formats an ISO date as Dutch text, e.g. ``13 november 2025``.

    Args:
        value: A date in ``YYYY-MM-DD`` form.

    Returns:
        The Dutch date, or the value unchanged when it is not an ISO date.
    """
    try:
        day = dt.date.fromisoformat(value)
    except ValueError:
        return value
    return f"{day.day} {DUTCH_MONTHS[day.month - 1]} {day.year}"


def source_line(source: Source) -> str:
    """Returns a source as one line, e.g. ``[3] Uwitonze & Razzaque (2018) https://…``.

    Args:
        source: The source.

    Returns:
        Its reference followed by its URL.
    """
    return f"{source.reference()} {source.url}"


def csv_row(topic: Topic, content: Content) -> Dict[str, str]:
    """Builds the CSV row of one topic.

    Args:
        topic: The topic.
        content: The content the topic belongs to (for its sources).

    Returns:
        A mapping from every column in :data:`CSV_COLUMNS` to its text.
    """
    sources = [
        f"{source_line(source)} (waarom: {topic.source_reasons[source.number]})"
        if source.number in topic.source_reasons
        else source_line(source)
        for source in content.sources_of(topic)
    ]
    if topic.sources_note:
        sources.append(topic.sources_note)
    return {
        "topic_id": topic.id,
        "titel": topic.title,
        "voorbeeldvragen": " | ".join(topic.questions),
        "kort_antwoord": topic.short,
        "lang_antwoord": topic.long,
        "bronnen": "\n".join(sources),
        "bron_nummers": ", ".join(str(number) for number in topic.sources),
    }


def write_csv(content: Content, path: Path) -> int:
    """Writes the CSV answer book.

    Args:
        content: The content to export.
        path: The file to write.

    Returns:
        The number of topic rows written.
    """
    rows = [csv_row(topic, content) for topic in content.topics.values()]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS, quoting=csv.QUOTE_ALL)
        writer.writeheader()
        writer.writerows(rows)
    return len(rows)


def text_to_html(text: str) -> str:
    """Turns plain answer text into escaped HTML paragraphs and lists.

    Blank lines separate blocks; lines starting with ``- `` become list items;
    other line breaks inside a block are kept as ``<br>``.

    Args:
        text: The plain text.

    Returns:
        HTML in which every piece of the text is escaped.
    """
    parts: List[str] = []
    for block in text.split("\n\n"):
        lines = [line.strip() for line in block.split("\n") if line.strip()]
        group: List[str] = []
        in_list = False
        for line in [*lines, ""]:
            is_item = line.startswith("- ")
            if group and (not line or is_item != in_list):
                parts.append(_html_block(group, in_list))
                group = []
            if line:
                in_list = is_item
                group.append(html.escape(line[2:].strip() if is_item else line))
    return "\n".join(parts)


def _html_block(lines: List[str], is_list: bool) -> str:
    """Joins escaped lines into one ``<ul>`` or one ``<p>`` with line breaks."""
    if is_list:
        return "<ul>" + "".join(f"<li>{line}</li>" for line in lines) + "</ul>"
    return "<p>" + "<br>\n".join(lines) + "</p>"


def link(url: str) -> str:
    """Returns an escaped link whose text is the URL itself."""
    escaped = html.escape(url, quote=True)
    return f'<a href="{escaped}">{escaped}</a>'


def render_topic(topic: Topic, content: Content) -> str:
    """Renders the section of one topic.

    Args:
        topic: The topic.
        content: The content it belongs to (sources, related titles).

    Returns:
        An HTML ``<section>`` whose id is the topic id.
    """
    esc = html.escape
    questions = "".join(f"<li>{esc(q)}</li>" for q in topic.questions)
    sources = "".join(
        f"<li>{esc(source.reference())}: {link(source.url)}"
        f"{_why_html(topic.source_reasons.get(source.number))}</li>"
        for source in content.sources_of(topic)
    )
    sources_html = f'<ul class="sources">{sources}</ul>' if sources else ""
    if topic.sources_note:
        sources_html += f"<p>{esc(topic.sources_note)}</p>"
    related = ", ".join(
        f'<a href="#{esc(other.id, quote=True)}">{esc(other.title)}</a>'
        for other in (content.topics[rid] for rid in topic.related)
    )
    return f"""<section class="topic" id="{esc(topic.id, quote=True)}">
<h2>{esc(topic.title)}</h2>
<p class="meta">Topic-id: <span class="topic-id">{esc(topic.id)}</span></p>
<h3>Voorbeeldvragen</h3>
<ul>{questions}</ul>
<h3>Kort antwoord</h3>
<div class="short">{text_to_html(topic.short)}</div>
<h3>Lang antwoord</h3>
<div class="long">{text_to_html(topic.long)}</div>
<h3>Bronnen</h3>
{sources_html}
<p>Zie ook: {related}</p>
<p class="back"><a href="#inhoud">Terug naar de inhoudsopgave</a></p>
</section>"""


def _why_html(why: Optional[str]) -> str:
    """Renders a source's ``why`` for one topic, or nothing."""
    return f'<br><span class="why">Waarom: {html.escape(why)}</span>' if why else ""


def twin_note(source: Source, content: Content) -> str:
    """Says which other numbers of the article's list are the same publication.

    The article lists one paper twice (sources 4 and 11, the same link); both
    numbers are kept as the article has them.

    Args:
        source: The source.
        content: The content it belongs to.

    Returns:
        A Dutch sentence, or an empty string.
    """
    twins = content.same_publication(source.number)
    if not twins:
        return ""
    others = " en ".join(str(n) for n in twins)
    return (
        f"Zelfde publicatie als bron {others}: het artikel geeft beide nummers met "
        "dezelfde link. We houden beide nummers aan zoals het artikel ze heeft."
    )


def render_source(source: Source, content: Content) -> str:
    """Renders one entry of the final list of sources."""
    esc = html.escape
    citation = (
        esc(source.citation)
        if source.citation
        else "<em>Het artikel geeft alleen de link en de beschrijving.</em>"
    )
    twins = twin_note(source, content)
    twins_html = f'<br>\n<span class="twin">{esc(twins)}</span>' if twins else ""
    return (
        f'<li id="bron-{source.number}" value="{source.number}">'
        f"<strong>{esc(source.label)}</strong>. {citation}<br>\n"
        f"{esc(source.summary)}<br>\n{link(source.url)}{twins_html}</li>"
    )


def render_html(content: Content, generated: Optional[dt.date] = None) -> str:
    """Renders the printable HTML answer book.

    Args:
        content: The content to export.
        generated: The date printed as creation date; defaults to today.

    Returns:
        A complete, self-contained HTML document in which all content is escaped.
    """
    esc = html.escape
    generated = generated or dt.date.today()
    toc = "\n".join(
        f'<li><a href="#{esc(topic.id, quote=True)}">{esc(topic.title)}</a> '
        f'<span class="topic-id">{esc(topic.id)}</span></li>'
        for topic in content.topics.values()
    )
    topics = "\n".join(
        render_topic(topic, content) for topic in content.topics.values()
    )
    sources = "\n".join(
        render_source(source, content) for source in content.sources.values()
    )
    title = esc(content.article_title)
    return f"""<!DOCTYPE html>
<html lang="nl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Antwoordenboek: {title}</title>
<style>{CSS}</style>
</head>
<body>
<header>
<h1>{title}</h1>
<p class="meta">Antwoordenboek voor de klantenservice. Artikel van
{esc(dutch_date(content.article_date))}; gemaakt op
{esc(dutch_date(generated.isoformat()))}. {len(content.topics)} onderwerpen,
{len(content.sources)} bronnen.</p>
</header>
<nav id="inhoud">
<h2>Inhoud</h2>
<ol>
{toc}
<li><a href="#bronnen-lijst">Alle bronnen</a></li>
</ol>
</nav>
<main>
{topics}
<section class="topic" id="bronnen-lijst">
<h2>Alle bronnen</h2>
<p>De bronnenlijst van het artikel, in zijn volgorde. Het artikel verwijst in zijn
tekst niet naar deze nummers: welke bronnen bij een onderwerp staan, is onze keuze
op grond van de beschrijving hieronder (zie &lsquo;Waarom&rsquo; bij elk onderwerp).</p>
<ol class="all-sources">
{sources}
</ol>
<p class="back"><a href="#inhoud">Terug naar de inhoudsopgave</a></p>
</section>
</main>
</body>
</html>
"""


def write_html(
    content: Content, path: Path, generated: Optional[dt.date] = None
) -> int:
    """Writes the HTML answer book.

    Args:
        content: The content to export.
        path: The file to write.
        generated: The creation date shown on the page; defaults to today.

    Returns:
        The number of topics on the page.
    """
    path.write_text(render_html(content, generated), encoding="utf-8")
    return len(content.topics)


def export(content: Content, out_dir: Path) -> Dict[Path, int]:
    """Writes both answer-book files.

    Args:
        content: The content to export.
        out_dir: The folder to write to; created when missing.

    Returns:
        Each written file with the number of topics in it.
    """
    out_dir.mkdir(parents=True, exist_ok=True)
    csv_path = out_dir / CSV_NAME
    html_path = out_dir / HTML_NAME
    return {
        csv_path: write_csv(content, csv_path),
        html_path: write_html(content, html_path),
    }


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the export from the command line.

    Args:
        argv: The arguments without the program name; defaults to ``sys.argv``.

    Returns:
        The exit code: 0 on success, 1 when the content file is broken or the
        files cannot be written.
    """
    parser = argparse.ArgumentParser(
        description="Schrijft het antwoordenboek (CSV en HTML) voor de klantenservice."
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT_DIR,
        help=f"map voor de bestanden (standaard: {DEFAULT_OUT_DIR})",
    )
    args = parser.parse_args(argv)
    try:
        content = load_content()
        written = export(content, args.out)
    except ContentError as error:
        print(error, file=sys.stderr)
        return 1
    except OSError as error:
        print(f"Kan het antwoordenboek niet schrijven: {error}", file=sys.stderr)
        return 1
    for path, count in written.items():
        print(f"Geschreven: {path} ({count} onderwerpen)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
