"""``make insights``: what visitors ask, what fails, and how answers are rated.

Reads one period of conversations from the tracker store (``endpoints.yml``:
SQLite by default, PostgreSQL when configured; :mod:`staff.events` streams it,
one conversation at a time) and writes to ``reports/insights/``:

- ``insights.html``: a self-contained page (charts as embedded PNG pictures
  drawn with matplotlib, no scripts, nothing loaded from elsewhere);
- CSV files with the same figures (UTF-8 with BOM, so Excel keeps accents):
  ``gesprekken_per_dag.csv``, ``onderwerpen.csv``, ``fallback_per_dag.csv``,
  ``feedback_per_onderwerp.csv``, ``zekerheid.csv``, ``gesprekslengte.csv``,
  ``onbegrepen_vragen.csv``, ``samenvatting.csv``.

What is counted (a *conversation* is one Rasa session; days start at midnight
in ``FAQ_TIMEZONE``, default Europe/Amsterdam):

- conversations (on the day of their first message) and visitor messages per
  day, by channel (the prefix of the conversation id);
- topics asked: the topic of the first reply to each message, ranked, typed
  and by button separately (ratings are not counted as questions);
- fallback rate per day: the share of typed messages answered with "niet
  begrepen" (topic ``fallback``), and of those the "bedoel je …?" replies that
  offer topics (``utter_niet_zeker``); button clicks never fall back;
- handoffs (replies that hand over to customer service) and refusals of
  personal advice (topic ``persoonlijk_advies``) per day;
- ratings per topic: how often "Had je hier iets aan?" was asked, and the
  answers (the last rating of a topic in a conversation counts);
- the distribution of NLU confidence of typed messages (best intent other
  than ``nlu_fallback``), with the fallback threshold of ``config.yml``;
- conversation length (visitor messages per conversation): median, mean,
  distribution;
- the most frequent typed messages that were not understood, de-identified
  (:func:`faq.privacy.deidentify`); no other message text leaves the store.

Usage::

    python -m staff.insights [--van 2026-11-01] [--tot 2026-11-30] [--dagen 30]
                             [--endpoints endpoints.yml | --db var/tracker.db]
                             [--out reports/insights] [--voorbeelden 15]
"""

from __future__ import annotations

import argparse
import base64
import csv
import datetime as dt
import io
import os
import statistics
import sys
import time
import warnings
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, Iterable, List, Optional, Sequence, Text, Tuple

import jinja2
import sqlalchemy as sa
import yaml

from faq.privacy import deidentify
from faq.settings import PROJECT_DIR
from staff.events import (
    CHANNELS,
    OTHER_CHANNEL,
    Conversation,
    epoch_range,
    parse_day,
    period,
    read_conversations,
    topic_titles,
)

# matplotlib 3.5 calls pyparsing functions that pyparsing 3 calls deprecated.
warnings.filterwarnings("ignore", message=r".*deprecated - use", module="matplotlib")

DEFAULT_OUT = PROJECT_DIR / "reports" / "insights"
TEMPLATES = Path(__file__).resolve().parent / "templates"
#: Dutch names of the channels.
CHANNEL_NAMES = {
    "rest": "website (REST)",
    "rest-api": "koppeling (REST-API)",
    "socketio": "website-widget",
    "whatsapp": "WhatsApp",
    OTHER_CHANNEL: "overig",
}
#: Bins of the confidence histogram: 0.00-0.05, …, 0.95-1.00.
CONFIDENCE_BINS = 20
#: Longest conversation length shown on its own; longer ones share a bar.
LENGTH_CAP = 20
#: Distinct not-understood texts remembered (the most frequent are shown).
MAX_UNDERSTOOD_TEXTS = 50_000
FEEDBACK_INTENT = "feedback"
REFUSAL_TOPIC = "persoonlijk_advies"


def _normalised(text: Text) -> Text:
    return " ".join(text.lower().split())


@dataclass
class Insights:
    """The figures of one period, added up one conversation at a time."""

    first: dt.date
    last: dt.date
    conversations: Counter = field(default_factory=Counter)  # (day, channel)
    messages: Counter = field(default_factory=Counter)  # (day, channel)
    topics: Counter = field(default_factory=Counter)
    topics_typed: Counter = field(default_factory=Counter)
    typed: Counter = field(default_factory=Counter)  # day
    fallback: Counter = field(default_factory=Counter)  # day
    did_you_mean: Counter = field(default_factory=Counter)  # day
    handoffs: Counter = field(default_factory=Counter)  # day
    refusals: Counter = field(default_factory=Counter)  # day
    conversations_with_handoff: int = 0
    feedback_asked: Counter = field(default_factory=Counter)  # topic
    helpful: Counter = field(default_factory=Counter)  # topic
    not_helpful: Counter = field(default_factory=Counter)  # topic
    confidence: List[int] = field(default_factory=lambda: [0] * CONFIDENCE_BINS)
    lengths: Counter = field(default_factory=Counter)
    not_understood: Counter = field(default_factory=Counter)  # normalised text

    @property
    def days(self) -> List[dt.date]:
        """Every day of the period, in order."""
        count = (self.last - self.first).days + 1
        return [self.first + dt.timedelta(days=i) for i in range(count)]

    def add(self, conversation: Conversation) -> None:
        """Counts one conversation."""
        turns = conversation.turns
        channel = conversation.channel
        self.conversations[(turns[0].day, channel)] += 1
        self.lengths[len(turns)] += 1
        ratings: Dict[Text, bool] = {}
        handed_off = False
        for turn in turns:
            day = turn.day
            self.messages[(day, channel)] += 1
            for topic, helpful in turn.ratings:
                ratings[topic] = helpful
            if turn.intent == FEEDBACK_INTENT:
                continue
            typed = turn.typed
            if turn.topic:
                self.topics[turn.topic] += 1
                if typed:
                    self.topics_typed[turn.topic] += 1
            if typed:
                self.typed[day] += 1
                if turn.confidence is not None:
                    index = int(turn.confidence * CONFIDENCE_BINS)
                    self.confidence[min(max(index, 0), CONFIDENCE_BINS - 1)] += 1
                if turn.fell_back:
                    self.fallback[day] += 1
                    self._remember_not_understood(turn.text)
                if turn.did_you_mean:
                    self.did_you_mean[day] += 1
            if turn.handoff:
                self.handoffs[day] += 1
                handed_off = True
            if turn.topic == REFUSAL_TOPIC:
                self.refusals[day] += 1
            if turn.feedback_asked and turn.topic:
                self.feedback_asked[turn.topic] += 1
        self.conversations_with_handoff += handed_off
        for topic, helpful in ratings.items():
            (self.helpful if helpful else self.not_helpful)[topic] += 1

    def _remember_not_understood(self, text: Text) -> None:
        key = _normalised(text)
        if key in self.not_understood or len(self.not_understood) < (
            MAX_UNDERSTOOD_TEXTS
        ):
            self.not_understood[key] += 1

    # --- figures --------------------------------------------------------------

    @property
    def total_conversations(self) -> int:
        """Conversations in the period."""
        return sum(self.conversations.values())

    @property
    def total_messages(self) -> int:
        """Visitor messages in the period."""
        return sum(self.messages.values())

    def channels(self) -> List[Text]:
        """Channels that occur, in a fixed order."""
        seen = {channel for _, channel in self.messages}
        return [c for c in (*CHANNELS, OTHER_CHANNEL) if c in seen]

    def median_length(self) -> Optional[float]:
        """Median visitor messages per conversation."""
        if not self.lengths:
            return None
        values = sorted(self.lengths.elements())
        return float(statistics.median(values))

    def mean_length(self) -> Optional[float]:
        """Mean visitor messages per conversation."""
        total = sum(self.lengths.values())
        if not total:
            return None
        return sum(n * c for n, c in self.lengths.items()) / total

    def summary(self) -> List[Tuple[Text, Text]]:
        """The headline figures as (label, value) pairs."""
        typed = sum(self.typed.values())
        fallback = sum(self.fallback.values())
        rated = sum(self.helpful.values()) + sum(self.not_helpful.values())
        median = self.median_length()
        return [
            ("Gesprekken", f"{self.total_conversations}"),
            ("Berichten van bezoekers", f"{self.total_messages}"),
            ("Getypte berichten", f"{typed}"),
            ("Niet begrepen (fallback)", percent(fallback, typed)),
            ('Waarvan "bedoel je …?"', percent(sum(self.did_you_mean.values()), typed)),
            ("Doorverwijzingen naar klantenservice", f"{sum(self.handoffs.values())}"),
            (
                "Gesprekken met doorverwijzing",
                percent(self.conversations_with_handoff, self.total_conversations),
            ),
            ("Persoonlijk advies geweigerd", f"{sum(self.refusals.values())}"),
            ("Beoordelingen (nuttig / niet nuttig)", f"{rated}"),
            ("Nuttig gevonden", percent(sum(self.helpful.values()), rated)),
            ("Mediane gesprekslengte", "–" if median is None else f"{median:g} ber."),
        ]


def percent(part: int, whole: int) -> Text:
    """``part`` of ``whole`` as a Dutch percentage, or a dash."""
    if not whole:
        return "–"
    return f"{100.0 * part / whole:.1f} %".replace(".", ",")


def read_insights(engine: sa.engine.Engine, first: dt.date, last: dt.date) -> Insights:
    """Reads the period ``first``..``last`` (inclusive) from the tracker store."""
    start, end = epoch_range(first, last)
    insights = Insights(first, last)
    for conversation in read_conversations(engine, start, end):
        insights.add(conversation)
    return insights


def fallback_threshold(
    config_path: Path = PROJECT_DIR / "config.yml",
) -> Optional[float]:
    """The FallbackClassifier threshold of ``config.yml``, if any."""
    try:
        config = yaml.safe_load(config_path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError):
        return None
    for component in config.get("pipeline") or []:
        if (
            isinstance(component, dict)
            and component.get("name") == "FallbackClassifier"
        ):
            value = component.get("threshold")
            return float(value) if isinstance(value, (int, float)) else None
    return None


# --- tables ---------------------------------------------------------------------


def topic_rows(insights: Insights, titles: Dict[Text, Text]) -> List[List[Any]]:
    """Topics asked, most asked first."""
    total = sum(insights.topics.values())
    return [
        [
            topic,
            titles.get(topic, topic),
            count,
            insights.topics_typed[topic],
            count - insights.topics_typed[topic],
            percent(count, total),
        ]
        for topic, count in sorted(insights.topics.items(), key=lambda i: (-i[1], i[0]))
    ]


def daily_rows(insights: Insights) -> List[List[Any]]:
    """Per day: typed messages, fallbacks, handoffs, refusals."""
    rows = []
    for day in insights.days:
        typed = insights.typed[day]
        rows.append(
            [
                day.isoformat(),
                typed,
                insights.fallback[day],
                percent(insights.fallback[day], typed),
                insights.did_you_mean[day],
                percent(insights.did_you_mean[day], typed),
                insights.handoffs[day],
                insights.refusals[day],
            ]
        )
    return rows


def channel_rows(insights: Insights) -> List[List[Any]]:
    """Per day and channel: conversations and messages."""
    return [
        [
            day.isoformat(),
            channel,
            insights.conversations[(day, channel)],
            insights.messages[(day, channel)],
        ]
        for day in insights.days
        for channel in insights.channels()
    ]


def feedback_rows(insights: Insights, titles: Dict[Text, Text]) -> List[List[Any]]:
    """Per rated topic: asked, helpful, not helpful; least helpful first."""
    topics = set(insights.feedback_asked) | set(insights.helpful)
    topics |= set(insights.not_helpful)
    rows = []
    for topic in topics:
        yes, no = insights.helpful[topic], insights.not_helpful[topic]
        rows.append(
            [
                topic,
                titles.get(topic, topic),
                insights.feedback_asked[topic],
                yes,
                no,
                percent(yes, yes + no),
            ]
        )
    return sorted(rows, key=lambda r: (r[3] / max(1, r[3] + r[4]), -r[4], r[0]))


def confidence_rows(insights: Insights) -> List[List[Any]]:
    """The confidence histogram as rows ``[from, to, messages]``."""
    width = 1.0 / CONFIDENCE_BINS
    return [
        [f"{i * width:.2f}", f"{(i + 1) * width:.2f}", count]
        for i, count in enumerate(insights.confidence)
    ]


def length_rows(insights: Insights) -> List[List[Any]]:
    """Conversations by length (visitor messages)."""
    return [[n, insights.lengths[n]] for n in sorted(insights.lengths)]


def not_understood_rows(insights: Insights, count: int) -> List[List[Any]]:
    """The most frequent not-understood messages, de-identified."""
    top = insights.not_understood.most_common(count) if count > 0 else []
    return [[deidentify(text), times] for text, times in top]


# --- charts ---------------------------------------------------------------------

COLORS = ["#1b6e8a", "#e39b2d", "#6a9f3a", "#a34b8c", "#7f7f7f"]


def _figure(width: float = 9.0, height: float = 3.6) -> Any:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), dpi=100)


def _png(figure: Any) -> Text:
    buffer = io.BytesIO()
    figure.tight_layout()
    figure.savefig(buffer, format="png")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _empty(axes: Any, text: Text = "geen gegevens in deze periode") -> None:
    axes.text(0.5, 0.5, text, ha="center", va="center", color="#666666")
    axes.set_xticks([])
    axes.set_yticks([])


def _day_axis(axes: Any, days: Sequence[dt.date]) -> None:
    step = max(1, len(days) // 10)
    ticks = list(range(0, len(days), step))
    axes.set_xticks(ticks)
    axes.set_xticklabels([days[i].strftime("%d-%m") for i in ticks], fontsize=8)


def chart_conversations(insights: Insights) -> Text:
    """Stacked bars: conversations per day by channel."""
    figure = _figure()
    axes = figure.add_subplot()
    days = insights.days
    if not insights.total_conversations:
        _empty(axes)
        return _png(figure)
    bottom = [0] * len(days)
    for color, channel in zip(COLORS, insights.channels(), strict=False):
        values = [insights.conversations[(d, channel)] for d in days]
        axes.bar(
            range(len(days)),
            values,
            bottom=bottom,
            color=color,
            label=CHANNEL_NAMES[channel],
        )
        bottom = [b + v for b, v in zip(bottom, values, strict=False)]
    _day_axis(axes, days)
    axes.set_ylabel("gesprekken")
    axes.legend(fontsize=8, loc="upper left")
    return _png(figure)


def chart_topics(insights: Insights, titles: Dict[Text, Text], top: int = 20) -> Text:
    """Horizontal bars: the most asked topics, typed and by button."""
    ranked = insights.topics.most_common(top)
    figure = _figure(9.0, max(2.5, 0.32 * len(ranked) + 1.0))
    axes = figure.add_subplot()
    if not ranked:
        _empty(axes)
        return _png(figure)
    labels = [_short(titles.get(t, t)) for t, _ in ranked][::-1]
    typed = [insights.topics_typed[t] for t, _ in ranked][::-1]
    button = [c - insights.topics_typed[t] for t, c in ranked][::-1]
    axes.barh(labels, typed, color=COLORS[0], label="getypt")
    axes.barh(labels, button, left=typed, color=COLORS[1], label="via een knop")
    axes.tick_params(axis="y", labelsize=8)
    axes.set_xlabel("berichten")
    axes.legend(fontsize=8, loc="lower right")
    return _png(figure)


def chart_fallback(insights: Insights) -> Text:
    """Lines: fallback and "bedoel je …?" rate per day."""
    figure = _figure()
    axes = figure.add_subplot()
    days = insights.days
    if not sum(insights.typed.values()):
        _empty(axes)
        return _png(figure)

    def rate(counter: Counter) -> List[float]:
        return [
            100.0 * counter[d] / insights.typed[d]
            if insights.typed[d]
            else float("nan")
            for d in days
        ]

    x = range(len(days))
    axes.plot(
        x, rate(insights.fallback), marker="o", color=COLORS[3], label="niet begrepen"
    )
    axes.plot(
        x,
        rate(insights.did_you_mean),
        marker="s",
        color=COLORS[1],
        label="bedoel je …?",
    )
    _day_axis(axes, days)
    axes.set_ylabel("% van getypte berichten")
    axes.set_ylim(bottom=0)
    axes.legend(fontsize=8, loc="upper left")
    return _png(figure)


def chart_handoffs(insights: Insights) -> Text:
    """Grouped bars: handoffs and refusals of personal advice per day."""
    figure = _figure()
    axes = figure.add_subplot()
    days = insights.days
    if not (sum(insights.handoffs.values()) or sum(insights.refusals.values())):
        _empty(axes)
        return _png(figure)
    x = list(range(len(days)))
    axes.bar(
        [i - 0.2 for i in x],
        [insights.handoffs[d] for d in days],
        width=0.4,
        color=COLORS[0],
        label="doorverwezen naar klantenservice",
    )
    axes.bar(
        [i + 0.2 for i in x],
        [insights.refusals[d] for d in days],
        width=0.4,
        color=COLORS[3],
        label="persoonlijk advies geweigerd",
    )
    _day_axis(axes, days)
    axes.set_ylabel("berichten")
    axes.legend(fontsize=8, loc="upper left")
    return _png(figure)


def chart_feedback(insights: Insights, titles: Dict[Text, Text]) -> Text:
    """Horizontal stacked bars: helpful and not helpful per topic."""
    rows = [r for r in feedback_rows(insights, titles) if r[3] + r[4]]
    figure = _figure(9.0, max(2.5, 0.32 * len(rows) + 1.0))
    axes = figure.add_subplot()
    if not rows:
        _empty(axes, "nog geen beoordelingen in deze periode")
        return _png(figure)
    rows = rows[::-1]
    labels = [_short(r[1]) for r in rows]
    yes = [r[3] for r in rows]
    no = [r[4] for r in rows]
    axes.barh(labels, yes, color=COLORS[2], label="nuttig")
    axes.barh(labels, no, left=yes, color=COLORS[3], label="niet nuttig")
    axes.tick_params(axis="y", labelsize=8)
    axes.set_xlabel("beoordelingen")
    axes.legend(fontsize=8, loc="lower right")
    return _png(figure)


def chart_confidence(insights: Insights, threshold: Optional[float]) -> Text:
    """Histogram: NLU confidence of typed messages."""
    figure = _figure()
    axes = figure.add_subplot()
    if not sum(insights.confidence):
        _empty(axes)
        return _png(figure)
    width = 1.0 / CONFIDENCE_BINS
    axes.bar(
        [(i + 0.5) * width for i in range(CONFIDENCE_BINS)],
        insights.confidence,
        width=width * 0.9,
        color=COLORS[0],
    )
    if threshold is not None:
        axes.axvline(threshold, color=COLORS[3], linestyle="--")
        axes.text(
            threshold,
            axes.get_ylim()[1] * 0.9,
            f" fallback-drempel {threshold:g}",
            color=COLORS[3],
            fontsize=8,
        )
    axes.set_xlim(0, 1)
    axes.set_xlabel("zekerheid van het herkende onderwerp")
    axes.set_ylabel("getypte berichten")
    return _png(figure)


def chart_lengths(insights: Insights) -> Text:
    """Bars: conversations by number of visitor messages."""
    figure = _figure()
    axes = figure.add_subplot()
    if not insights.lengths:
        _empty(axes)
        return _png(figure)
    capped: Counter = Counter()
    for n, count in insights.lengths.items():
        capped[min(n, LENGTH_CAP)] += count
    x = list(range(1, LENGTH_CAP + 1))
    axes.bar(x, [capped[n] for n in x], color=COLORS[0])
    median = insights.median_length()
    if median is not None:
        axes.axvline(min(median, LENGTH_CAP), color=COLORS[1], linestyle="--")
        axes.text(
            min(median, LENGTH_CAP),
            axes.get_ylim()[1] * 0.9,
            f" mediaan {median:g}",
            color=COLORS[1],
            fontsize=8,
        )
    axes.set_xticks(x)
    axes.set_xticklabels([str(n) for n in x[:-1]] + [f"{LENGTH_CAP}+"], fontsize=8)
    axes.set_xlabel("berichten van de bezoeker per gesprek")
    axes.set_ylabel("gesprekken")
    return _png(figure)


def _short(text: Text, limit: int = 48) -> Text:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- output ---------------------------------------------------------------------


def write_csv(
    path: Path, header: Sequence[Text], rows: Iterable[Sequence[Any]]
) -> None:
    """Writes one CSV file, UTF-8 with BOM (Excel keeps accents)."""
    with open(
        os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        "w",
        encoding="utf-8-sig",
        newline="",
    ) as handle:
        writer = csv.writer(handle, quoting=csv.QUOTE_MINIMAL)
        writer.writerow(header)
        writer.writerows(rows)


def write_report(
    insights: Insights,
    out: Path,
    examples: int = 15,
    source: Text = "",
    seconds: Optional[float] = None,
) -> Path:
    """Writes ``insights.html`` and the CSV files into ``out``; returns the page."""
    out.mkdir(parents=True, exist_ok=True)
    out.chmod(0o700)  # health questions, even de-identified: owner only
    titles = topic_titles()
    threshold = fallback_threshold()
    topics = topic_rows(insights, titles)
    daily = daily_rows(insights)
    feedback = feedback_rows(insights, titles)
    unclear = not_understood_rows(insights, examples)

    write_csv(
        out / "gesprekken_per_dag.csv",
        ["dag", "kanaal", "gesprekken", "berichten"],
        channel_rows(insights),
    )
    write_csv(
        out / "onderwerpen.csv",
        ["onderwerp", "titel", "berichten", "getypt", "via_knop", "aandeel"],
        topics,
    )
    write_csv(
        out / "fallback_per_dag.csv",
        [
            "dag",
            "getypte_berichten",
            "niet_begrepen",
            "niet_begrepen_pct",
            "bedoel_je",
            "bedoel_je_pct",
            "doorverwijzingen",
            "persoonlijk_advies_geweigerd",
        ],
        daily,
    )
    write_csv(
        out / "feedback_per_onderwerp.csv",
        ["onderwerp", "titel", "gevraagd", "nuttig", "niet_nuttig", "nuttig_pct"],
        feedback,
    )
    write_csv(
        out / "zekerheid.csv", ["van", "tot", "berichten"], confidence_rows(insights)
    )
    write_csv(
        out / "gesprekslengte.csv", ["berichten", "gesprekken"], length_rows(insights)
    )
    write_csv(
        out / "onbegrepen_vragen.csv", ["bericht_gedeidentificeerd", "aantal"], unclear
    )
    write_csv(out / "samenvatting.csv", ["maat", "waarde"], insights.summary())

    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
    )
    page = environment.get_template("insights.html").render(
        first=insights.first.isoformat(),
        last=insights.last.isoformat(),
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        source=source,
        seconds=seconds,
        summary=insights.summary(),
        charts={
            "gesprekken": chart_conversations(insights),
            "onderwerpen": chart_topics(insights, titles),
            "fallback": chart_fallback(insights),
            "doorverwijzingen": chart_handoffs(insights),
            "feedback": chart_feedback(insights, titles),
            "zekerheid": chart_confidence(insights, threshold),
            "lengte": chart_lengths(insights),
        },
        topics=topics[:25],
        daily=daily,
        feedback=feedback,
        unclear=unclear,
        channels=[(CHANNEL_NAMES[c], c) for c in insights.channels()],
        channel_totals=[
            (
                CHANNEL_NAMES[c],
                sum(n for (_, ch), n in insights.conversations.items() if ch == c),
                sum(n for (_, ch), n in insights.messages.items() if ch == c),
            )
            for c in insights.channels()
        ],
        median=insights.median_length(),
        mean=insights.mean_length(),
        threshold=threshold,
    )
    target = out / "insights.html"
    with open(
        os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600),
        "w",
        encoding="utf-8",
    ) as handle:
        handle.write(page)
    return target


# --- command line ---------------------------------------------------------------


def engine_for(args: argparse.Namespace) -> Tuple[sa.engine.Engine, Text]:
    """The tracker store's engine and a description of it, or SystemExit in Dutch."""
    from staff.events import engine_from_endpoints

    if args.db:
        path = Path(args.db)
        engine = sa.create_engine(f"sqlite:///{path}")
    else:
        engine = engine_from_endpoints(args.endpoints)
    url = engine.url
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "")
        if not database.is_file():
            raise SystemExit(
                f"FOUT: de gespreksdatabase {database} bestaat niet (nog). Start de "
                "assistent met 'make run' of geef --db of --endpoints op."
            )
        return engine, f"SQLite {database}"
    return engine, f"{url.get_backend_name()} {url.host or ''}/{url.database or ''}"


def add_period_arguments(parser: argparse.ArgumentParser, days: int = 30) -> None:
    """The options that choose the period and the database (shared with review)."""
    parser.add_argument("--van", type=parse_day, help="eerste dag, JJJJ-MM-DD")
    parser.add_argument("--tot", type=parse_day, help="laatste dag, JJJJ-MM-DD (t/m)")
    parser.add_argument(
        "--dagen",
        type=int,
        default=days,
        help=f"zonder --van: laatste N dagen ({days})",
    )
    parser.add_argument("--endpoints", default="endpoints.yml")
    parser.add_argument("--db", help="een SQLite-bestand in plaats van endpoints.yml")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs ``make insights``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_period_arguments(parser)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument(
        "--voorbeelden",
        type=int,
        default=15,
        help="hoeveel onbegrepen vragen (gedeïdentificeerd) het rapport toont",
    )
    args = parser.parse_args(argv)
    try:
        first, last = period(args.van, args.tot, args.dagen)
    except ValueError as error:
        parser.error(str(error))
    engine, source = engine_for(args)
    started = time.perf_counter()
    try:
        insights = read_insights(engine, first, last)
    except sa.exc.SQLAlchemyError as error:
        message = getattr(error, "orig", None) or error
        print(f"FOUT: de gespreksdatabase is niet leesbaar: {message}", file=sys.stderr)
        return 1
    page = write_report(
        insights, args.out, args.voorbeelden, source, time.perf_counter() - started
    )
    for label, value in insights.summary():
        print(f"  {label}: {value}")
    print(f"Inzichten {first} t/m {last} uit {source}:")
    print(f"  {page} en de CSV-bestanden in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
