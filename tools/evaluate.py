"""Evaluation of the bot against the TF-IDF + LinearSVC baseline.

``make eval`` measures three test sets and a cross-validation, the bot and the
baseline side by side:

- the development set ``tests/heldout/messages.yml`` (used for error
  analysis, so its figures are optimistic; every error is listed);
- the blind sets ``tests/blind/set_*.yml`` (see its README), written by
  people who never saw ``data/`` or the development set. For these ONLY
  aggregate figures (per group and per style) are computed, printed and
  written: no message, no reply and no per-item error leaves this script;
- 5-fold cross-validation of ``data/nlu`` (stratified, seed 42): the bot's
  intent model (:class:`server.nlu.model.TopicModel`, the code the Rasa
  component runs, with the ``config.yml`` settings and fallback rule) and the
  baseline, on the same folds.

The bot is the real stack (:class:`tools.stack.Stack`: action server + Rasa
server, REST channel); the answered topic is read from each reply's
``custom.topic``. Every ``single`` message is its own conversation, every
``multi_turn`` case one conversation. The baseline (``tools.baseline``)
answers the same conversations, with the bot's fallback rule chosen by the
bot's chooser (``tools.tune_thresholds``) at the same cost on the same
cross-validated training data.

For every set the issue's bar table is printed: content topic correct,
in-scope question answered with another topic, personal advice caught, doses
in replies, off-domain refused, customer-service requests handed over,
multi-turn turns correct, long messages (style ``lang``) and noisy messages
(style ``ruis``), with the baseline beside the bot.

Writes ``reports/eval.json`` and ``reports/eval.md`` (all sets, aggregates),
and for the development set only ``reports/eval_errors.tsv`` (every message
the bot or the baseline got wrong) and ``reports/confusion.png``.

``--sweep`` (not part of ``make eval``) shows how the development-set figures
move across FallbackClassifier thresholds: a DIAGNOSTIC that must not be used
to choose them (``make tune`` chooses on the training data).

Usage:
    python -m tools.evaluate [--sets dev,blind_b,blind_c] [--no-cv] [--workers N]
    python -m tools.evaluate --sweep
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import re
import shlex
import sys
import tempfile
import time
import uuid
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import yaml

from faq.content import (
    CONTENT_TOPIC_IDS,
    CONVERSATION_TOPIC_IDS,
    DOSE_PATTERN,
)
from faq.settings import PROJECT_DIR as ROOT
from tools.baseline import (
    FALLBACK,
    Baseline,
    ConversationState,
    answer_intent,
    load_training_data,
    lookup_pattern,
    make_pipeline,
    rankings_of,
    train_baseline,
)
from tools.stack import MODEL, Stack
from tools.tune_thresholds import (
    FOLDS,
    SEED,
    FallbackRule,
    Ranking,
    bot_fit_predict,
    choose_rule,
    configured_rule,
    out_of_fold_rankings,
)

HELDOUT_DIR = ROOT / "tests" / "heldout"
HELDOUT = HELDOUT_DIR / "messages.yml"
CONTEXT_DEV = HELDOUT_DIR / "context.yml"
ROUND2_DEV = HELDOUT_DIR / "round2.yml"
ROUND3_DEV = HELDOUT_DIR / "round3.yml"
BLIND = ROOT / "tests" / "blind"
REPORTS = ROOT / "reports"
ANY_CONTENT = "any_content"
#: Answer recorded when the bot sent no message with a topic.
NO_TOPIC = "(geen)"
#: Answer recorded when the request itself failed.
REQUEST_ERROR = "(fout)"
#: Conversation topics scored by "conversation topics accuracy".
PLAIN_CONVERSATION_TOPICS: Tuple[str, ...] = tuple(
    t
    for t in CONVERSATION_TOPIC_IDS
    if t not in ("persoonlijk_advies", "buiten_domein", "fallback")
)
#: Figures where a lower value is better.
LOWER_IS_BETTER = ("wrong_answer_rate", "wrong_answer_rate_unseen")
#: Figures that are neither better nor worse when higher (shown for context).
NEUTRAL = (
    "content_fallback_rate",
    "buiten_domein_as_fallback",
    "multi_turn_source_follow_ups",
)
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Seconds the channel waits for Rasa before apologising: generous here, so a
#: busy machine cannot turn slow answers into wrong ones.
EVAL_REPLY_TIMEOUT = "60"
#: Cross-validation examples of at least this many words count as long.
LONG_WORDS = 20
FIGURE_LABELS: Dict[str, str] = {
    "content_accuracy": "content top-1 accuracy",
    "wrong_answer_rate": "wrong-answer rate (in scope)",
    "content_fallback_rate": "fallback rate (in scope)",
    "content_accuracy_unseen": "content accuracy, not in training data",
    "wrong_answer_rate_unseen": "wrong-answer rate, not in training data",
    "persoonlijk_advies_catch_rate": "persoonlijk_advies catch rate",
    "buiten_domein_refusal_rate": "buiten_domein refused (bd + fallback)",
    "buiten_domein_as_buiten_domein": "  - answered buiten_domein",
    "buiten_domein_as_fallback": "  - answered fallback",
    "medewerker_rate": "medewerker (customer service) handed over",
    "conversation_accuracy": "conversation topics accuracy",
    "overall_accuracy": "all single messages accuracy",
    "long_accuracy": "long messages (style lang) accuracy",
    "noise_accuracy": "noisy messages (style ruis) accuracy",
    "multi_turn_turn_accuracy": "multi-turn: turns correct",
    "multi_turn_contract_accuracy": "multi-turn: turns correct by topics.md",
    "multi_turn_source_follow_ups": "  - source follow-ups labelled bronnen",
    "multi_turn_case_accuracy": "multi-turn: cases fully correct",
    "multi_turn_first_accuracy": "multi-turn: first turns correct",
    "multi_turn_later_accuracy": "multi-turn: later turns correct",
    "multi_turn_later_content_accuracy": "  - later turns expecting content",
    "multi_turn_later_conversation_accuracy": "  - later turns expecting chat",
    "multi_turn_later_content_fallback_rate": "  later content turns: fallback",
    "multi_turn_later_content_wrong_rate": "  later content turns: another topic",
    "multi_turn_later_content_refused_rate": "  later content turns: refused",
    "multi_turn_later_content_conversation_rate": "  later content turns: chat reply",
    "multi_turn_miss_after_miss_rate": "multi-turn misses right after a miss",
}


@dataclass(frozen=True)
class EvalSet:
    """One test set: its name, file and whether it is blind."""

    name: str
    title: str
    path: Path
    blind: bool


SETS: Tuple[EvalSet, ...] = (
    *(
        EvalSet(name, f"{title} ({path.relative_to(ROOT)})", path, False)
        for name, title, path in (
            ("dev", "development set", HELDOUT),
            ("dev_context", "development set for context", CONTEXT_DEV),
            ("dev_round2", "second development set", ROUND2_DEV),
            ("dev_round3", "third development set", ROUND3_DEV),
            (
                "dev_former_a",
                "development set, formerly blind set A",
                HELDOUT_DIR / "former_blind_a.yml",
            ),
            (
                "dev_former_g",
                "development set, formerly blind set G",
                HELDOUT_DIR / "former_blind_g.yml",
            ),
            (
                "dev_former_w",
                "development set, formerly blind set W",
                HELDOUT_DIR / "former_blind_w.yml",
            ),
            (
                "dev_former_y",
                "development set, formerly blind set Y",
                HELDOUT_DIR / "former_blind_y.yml",
            ),
            (
                "dev_round6",
                "sixth development set, follow-ups and long messages",
                HELDOUT_DIR / "round6.yml",
            ),
            (
                "dev_round7",
                "seventh development set, conversations",
                HELDOUT_DIR / "round7.yml",
            ),
            (
                "dev_round9",
                "ninth development set, conversations (openings are training data)",
                HELDOUT_DIR / "round9.yml",
            ),
            (
                "dev_round10",
                "tenth development set, conversations (openings are training data)",
                HELDOUT_DIR / "round10.yml",
            ),
            (
                "dev_round11",
                "eleventh development set, conversations (openings are training data)",
                HELDOUT_DIR / "round11.yml",
            ),
            (
                "dev_round12",
                "twelfth development set, conversations (openings are training data)",
                HELDOUT_DIR / "round12.yml",
            ),
            (
                "dev_round13",
                "thirteenth development set, conversations (openings are training"
                " data)",
                HELDOUT_DIR / "round13.yml",
            ),
            (
                "dev_round14",
                "fourteenth development set, conversations (openings are training"
                " data)",
                HELDOUT_DIR / "round14.yml",
            ),
            (
                "dev_round15",
                "fifteenth development set, conversations (openings are training"
                " data)",
                HELDOUT_DIR / "round15.yml",
            ),
            (
                "dev_round16",
                "sixteenth development set, conversations (openings are training"
                " data)",
                HELDOUT_DIR / "round16.yml",
            ),
            (
                "dev_round17",
                "seventeenth development set, conversations (openings are"
                " training data)",
                HELDOUT_DIR / "round17.yml",
            ),
            (
                "dev_round18",
                "eighteenth development set, conversations (openings are"
                " training data)",
                HELDOUT_DIR / "round18.yml",
            ),
            (
                "dev_round19",
                "nineteenth development set, conversations (openings are"
                " training data)",
                HELDOUT_DIR / "round19.yml",
            ),
            (
                "dev_round20",
                "twentieth development set, conversations (openings are"
                " training data)",
                HELDOUT_DIR / "round20.yml",
            ),
            (
                "dev_round21",
                "twenty-first development set, conversations (openings are"
                " training data)",
                HELDOUT_DIR / "round21.yml",
            ),
            (
                "dev_round22",
                "twenty-second development set, conversations (openings are"
                " training data)",
                HELDOUT_DIR / "round22.yml",
            ),
            (
                "dev_round23",
                "twenty-third development set, singles and conversations",
                HELDOUT_DIR / "round23.yml",
            ),
        )
    ),
    *(
        EvalSet(
            f"blind_{x}",
            f"blind set {x.upper()} (tests/blind/set_{x}.yml)",
            BLIND / f"set_{x}.yml",
            True,
        )
        for x in (*"bcdefhijklmnopqrstuvxz", "aa", "ab")
    ),
)


@dataclass
class Turn:
    """One test message, its expectation and both answers."""

    text: str
    expected: str
    style: str = ""
    case: str = ""
    index: int = 0
    bot: str = NO_TOPIC
    baseline: str = NO_TOPIC
    bot_texts: List[str] = field(default_factory=list)
    bot_reason: str = ""
    in_training: bool = False
    #: The topic by the contract of topics.md, where the writer's differs: a
    #: request for the sources of the answer just given ("welke bronnen?")
    #: carries the topic it continues, though writers often label it
    #: ``bronnen``.
    contract: str = ""


@dataclass
class Case:
    """One multi-turn conversation of a test set."""

    name: str
    turns: List[Turn]


def load_heldout(path: Path = HELDOUT) -> Tuple[List[Turn], List[Case]]:
    """Reads a test set (development or blind: the same format).

    Args:
        path: The YAML file with ``single`` and ``multi_turn`` lists.

    Returns:
        The single messages and the multi-turn cases.
    """
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    singles = [
        Turn(text=str(m["text"]), expected=str(m["topic"]), style=str(m["style"]))
        for m in data.get("single") or []
    ]
    cases = [
        Case(
            name=str(c["name"]),
            turns=[
                Turn(
                    text=str(t["text"]),
                    expected=str(t["topic"]),
                    style="multi_turn",
                    case=str(c["name"]),
                    index=i + 1,
                )
                for i, t in enumerate(c["turns"])
            ],
        )
        for c in data.get("multi_turn") or []
    ]
    for case in cases:
        label_by_contract(case)
    return singles, cases


def label_by_contract(case: Case) -> None:
    """Sets ``contract`` on the source follow-ups a writer labelled ``bronnen``.

    topics.md: follow-up turns ("vertel meer", "welke bronnen?") carry the id
    of the topic they continue. A later turn labelled ``bronnen`` right after
    a content topic, that does not ask for the whole list (the ``bereik``
    lookup of the training data), continues that topic. Chains ("welke
    studie?", then "kun je de link geven?") keep it.

    Args:
        case: The conversation; its turns are updated in place.
    """
    whole_list = lookup_pattern("bereik")
    previous = ""
    for turn in case.turns:
        if (
            turn.expected == "bronnen"
            and previous in CONTENT_TOPIC_IDS
            and previous != "bronnen"
            and not whole_list.search(turn.text)
        ):
            turn.contract = previous
        previous = turn.contract or turn.expected


def normalise(text: str) -> str:
    """Lower-cases a text and keeps only letters, digits and single spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def mark_training_overlap(turns: Sequence[Turn], training: Sequence[str]) -> int:
    """Flags test turns whose text also occurs in the training data.

    Texts are compared after :func:`normalise`. Overlap inflates both systems'
    figures, so the report also shows the content figures on unseen messages.

    Returns:
        How many turns were flagged.
    """
    seen = {normalise(t) for t in training}
    for turn in turns:
        turn.in_training = normalise(turn.text) in seen
    return sum(t.in_training for t in turns)


def is_correct(expected: str, answered: str) -> bool:
    """Returns whether an answered topic satisfies the expected one.

    Args:
        expected: A topic id, or ``any_content`` (any content topic will do).
        answered: The topic the bot or baseline answered with.
    """
    if expected == ANY_CONTENT:
        return answered in CONTENT_TOPIC_IDS
    return expected == answered


def reply_topic(messages: Sequence[Dict[str, Any]]) -> Tuple[str, str]:
    """Returns the topic of the first bot message that has one, and its reason.

    Args:
        messages: The bot's messages for one user turn (REST response).

    Returns:
        The topic (``(geen)`` when no message has one) and the channel's
        ``custom.reason`` (empty unless the channel answered itself).
    """
    for message in messages:
        custom = message.get("custom")
        if isinstance(custom, dict) and custom.get("topic"):
            return str(custom["topic"]), str(custom.get("reason") or "")
    return NO_TOPIC, ""


def _rate(hits: int, total: int) -> Optional[float]:
    return hits / total if total else None


def compute_metrics(
    singles: Sequence[Turn], cases: Sequence[Case], who: str
) -> Dict[str, Any]:
    """Computes every figure for the bot or the baseline.

    Args:
        singles: Single messages with answers filled in.
        cases: Multi-turn cases with answers filled in.
        who: ``"bot"`` or ``"baseline"``: which answer to score.

    Returns:
        ``figures`` (name -> rate or None when nothing to score), ``counts``
        (name -> number of messages scored), ``hits``, and ``by_style``
        (style -> rate) with ``style_counts``. Aggregates only.
    """

    def answer(turn: Turn) -> str:
        return str(getattr(turn, who))

    in_scope = [t for t in singles if t.expected in CONTENT_TOPIC_IDS]
    unseen = [t for t in in_scope if not t.in_training]
    advice = [t for t in singles if t.expected == "persoonlijk_advies"]
    outside = [t for t in singles if t.expected == "buiten_domein"]
    service = [t for t in singles if t.expected == "medewerker"]
    chat = [t for t in singles if t.expected in PLAIN_CONVERSATION_TOPICS]
    long = [t for t in singles if t.style == "lang"]
    long_content = [t for t in long if t.expected in CONTENT_TOPIC_IDS]
    noisy = [t for t in singles if t.style == "ruis"]
    turns = [t for c in cases for t in c.turns]
    later_content = [
        t
        for t in later(turns)
        if t.expected in CONTENT_TOPIC_IDS or t.expected == ANY_CONTENT
    ]
    previous = {
        id(t): c.turns[i - 1] for c in cases for i, t in enumerate(c.turns) if i
    }

    def count(items: Sequence[Any], hit: Callable[[Any], bool]) -> Tuple[int, int]:
        return sum(bool(hit(item)) for item in items), len(items)

    def right(turn: Turn) -> bool:
        return answer(turn) == turn.expected

    def wrong(turn: Turn) -> bool:
        return answer(turn) in CONTENT_TOPIC_IDS and answer(turn) != turn.expected

    def accepted(turn: Turn) -> bool:
        return is_correct(turn.expected, answer(turn))

    groups: Dict[str, Tuple[int, int]] = {
        "content_accuracy": count(in_scope, right),
        "wrong_answer_rate": count(in_scope, wrong),
        "content_fallback_rate": count(in_scope, lambda t: answer(t) == FALLBACK),
        "content_accuracy_unseen": count(unseen, right),
        "wrong_answer_rate_unseen": count(unseen, wrong),
        "persoonlijk_advies_catch_rate": count(
            advice, lambda t: answer(t) == "persoonlijk_advies"
        ),
        "buiten_domein_refusal_rate": count(
            outside, lambda t: answer(t) in ("buiten_domein", FALLBACK)
        ),
        "buiten_domein_as_buiten_domein": count(
            outside, lambda t: answer(t) == "buiten_domein"
        ),
        "buiten_domein_as_fallback": count(outside, lambda t: answer(t) == FALLBACK),
        # Where content questions went instead (aggregates: a blind set's
        # misses by kind, never by item).
        "content_as_advice_rate": count(
            in_scope, lambda t: answer(t) == "persoonlijk_advies"
        ),
        "content_as_off_domain_rate": count(
            in_scope, lambda t: answer(t) == "buiten_domein"
        ),
        "long_content_fallback_rate": count(
            long_content, lambda t: answer(t) == FALLBACK
        ),
        "long_content_as_advice_rate": count(
            long_content, lambda t: answer(t) == "persoonlijk_advies"
        ),
        "long_content_wrong_rate": count(long_content, wrong),
        "medewerker_rate": count(service, right),
        "conversation_accuracy": count(chat, right),
        "overall_accuracy": count(singles, accepted),
        "long_accuracy": count(long, accepted),
        "noise_accuracy": count(noisy, accepted),
        "multi_turn_turn_accuracy": count(turns, accepted),
        "multi_turn_contract_accuracy": count(
            turns, lambda t: is_correct(t.contract or t.expected, answer(t))
        ),
        "multi_turn_source_follow_ups": count(turns, lambda t: bool(t.contract)),
        "multi_turn_case_accuracy": count(
            cases, lambda c: all(accepted(t) for t in c.turns)
        ),
        "multi_turn_first_accuracy": count(later(turns, first=True), accepted),
        "multi_turn_later_accuracy": count(later(turns), accepted),
        "multi_turn_later_content_accuracy": count(
            [
                t
                for t in later(turns)
                if t.expected in CONTENT_TOPIC_IDS or t.expected == ANY_CONTENT
            ],
            accepted,
        ),
        "multi_turn_later_conversation_accuracy": count(
            [t for t in later(turns) if t.expected in CONVERSATION_TOPIC_IDS],
            accepted,
        ),
        # Where later content turns went instead (aggregates, as above).
        "multi_turn_later_content_fallback_rate": count(
            later_content, lambda t: answer(t) == FALLBACK
        ),
        "multi_turn_later_content_wrong_rate": count(
            later_content, lambda t: not accepted(t) and answer(t) in CONTENT_TOPIC_IDS
        ),
        "multi_turn_later_content_refused_rate": count(
            later_content,
            lambda t: answer(t) in ("buiten_domein", "persoonlijk_advies"),
        ),
        "multi_turn_later_content_conversation_rate": count(
            later_content,
            lambda t: answer(t) in CONVERSATION_TOPIC_IDS
            and answer(t) not in ("buiten_domein", "persoonlijk_advies"),
        ),
        # Missed later turns whose previous turn was missed too (a cascade).
        "multi_turn_miss_after_miss_rate": count(
            [
                t
                for c in cases
                for i, t in enumerate(c.turns)
                if i > 0 and not accepted(t)
            ],
            lambda t: not accepted(previous[id(t)]),
        ),
    }
    styles: Dict[str, List[bool]] = defaultdict(list)
    for t in singles:
        styles[t.style].append(is_correct(t.expected, answer(t)))
    return {
        "figures": {name: _rate(h, n) for name, (h, n) in groups.items()},
        "counts": {name: n for name, (_, n) in groups.items()},
        "hits": {name: h for name, (h, _) in groups.items()},
        "by_style": {
            s: _rate(sum(v), len(v)) for s, v in sorted(styles.items(), key=_style_key)
        },
        "style_counts": {s: len(v) for s, v in styles.items()},
    }


def later(turns: Sequence[Turn], first: bool = False) -> List[Turn]:
    """Returns the turns after the first of their conversation (or the first)."""
    return [t for t in turns if (t.index == 1) == first]


def _style_key(item: Tuple[str, Any]) -> Tuple[int, str]:
    order = (
        "standaard",
        "informeel",
        "typfout",
        "kort",
        "lang",
        "vlaams",
        "engels",
        "ruis",
    )
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


# ---------------------------------------------------------------- the bar

#: The bar of issue #8: (figure, label, bar, kind). ``min``: at least the bar;
#: ``max``: at most; ``min_base``: at least the bar AND the baseline.
BAR: Tuple[Tuple[str, str, float, str], ...] = (
    ("content_accuracy", "content topic answered correctly", 0.97, "min_base"),
    ("wrong_answer_rate", "in-scope question answered with another topic", 0.01, "max"),
    ("persoonlijk_advies_catch_rate", "personal advice caught", 1.0, "min"),
    ("dose_replies", "replies containing a dose (count)", 0, "max"),
    ("buiten_domein_refusal_rate", "off-domain refused", 0.95, "min"),
    ("medewerker_rate", "customer-service requests handed over", 0.0, "info"),
    ("multi_turn_turn_accuracy", "multi-turn turns correct", 0.95, "min"),
    ("long_accuracy", "long messages (a story, then the question)", 0.90, "min"),
    ("noise_accuracy", "messages with noise (style ruis)", 0.0, "info"),
)


def bar_rows(
    bot: Dict[str, Any], base: Optional[Dict[str, Any]], dose_count: Optional[int]
) -> List[Dict[str, Any]]:
    """Returns the bar table: each figure with bot, baseline, bar and verdict."""
    rows = []
    for name, label, bar, kind in BAR:
        if name == "dose_replies":
            value: Optional[float] = None if dose_count is None else float(dose_count)
            base_value = None
            n = None
        else:
            value = bot["figures"].get(name)
            base_value = base["figures"].get(name) if base else None
            n = bot["counts"].get(name)
        if kind == "info" or value is None:
            met = ""
        elif kind == "max":
            met = "yes" if value <= bar + 1e-12 else "no"
        else:
            met = "yes" if value >= bar - 1e-12 else "no"
            if kind == "min_base" and base_value is not None and value < base_value:
                met = "no (below baseline)" if met == "yes" else "no"
        rows.append(
            {
                "figure": name,
                "label": label,
                "n": n,
                "bot": value,
                "baseline": base_value,
                "bar": bar,
                "kind": kind,
                "met": met,
            }
        )
    return rows


def render_bar(rows: Sequence[Dict[str, Any]], markdown: bool = False) -> str:
    """Renders the bar table (fixed-width or markdown)."""
    header = ["figure", "n", "bot", "baseline", "bar", "met?"]
    body = []
    for r in rows:
        if r["figure"] == "dose_replies":
            bot = "n/a" if r["bot"] is None else f"{r['bot']:.0f}"
            bar = "0"
        else:
            bot = _fmt(r["bot"])
            sign = {"min": ">= ", "min_base": ">= ", "max": "<= "}.get(r["kind"], "")
            bar = f"{sign}{100 * r['bar']:.0f} %" if r["kind"] != "info" else "-"
            if r["kind"] == "min_base":
                bar += " and >= baseline"
        body.append(
            [
                r["label"],
                "" if r["n"] is None else str(r["n"]),
                bot,
                _fmt(r["baseline"]) if r["baseline"] is not None else "-",
                bar,
                r["met"],
            ]
        )
    if markdown:
        lines = ["| " + " | ".join(header) + " |"]
        lines.append("|---|--:|--:|--:|---|---|")
        lines.extend("| " + " | ".join(row) + " |" for row in body)
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in [header, *body]
    )


def ratio(bot: Optional[float], baseline: Optional[float]) -> Optional[float]:
    """Returns ``bot / baseline``, or None when undefined."""
    if bot is None or baseline is None or baseline == 0:
        return None
    return bot / baseline


def better(name: str, bot: Optional[float], baseline: Optional[float]) -> str:
    """Says which system is better on a figure: ``bot``, ``baseline`` or ``=``."""
    if bot is None or baseline is None or name in NEUTRAL:
        return ""
    if abs(bot - baseline) < 1e-12:
        return "="
    bot_wins = bot < baseline if name in LOWER_IS_BETTER else bot > baseline
    return "bot" if bot_wins else "baseline"


def comparison_rows(bot: Dict[str, Any], base: Dict[str, Any]) -> List[Dict[str, Any]]:
    """Returns one row per figure: values, counts, ratios and the better one."""
    rows = []
    names = list(bot["figures"]) + [f"style:{s}" for s in bot["by_style"]]
    for name in names:
        if name.startswith("style:"):
            style = name.split(":", 1)[1]
            b, s = bot["by_style"][style], base["by_style"].get(style)
            n = bot["style_counts"][style]
            label = f"accuracy, style {style}"
        else:
            b, s = bot["figures"][name], base["figures"][name]
            n = bot["counts"][name]
            label = FIGURE_LABELS.get(name, name)
        rows.append(
            {
                "figure": name,
                "label": label,
                "n": n,
                "bot": b,
                "baseline": s,
                "bot_over_baseline": ratio(b, s),
                "baseline_over_bot": ratio(s, b) if name in LOWER_IS_BETTER else None,
                "lower_is_better": name in LOWER_IS_BETTER,
                "better": better(name, b, s),
            }
        )
    return rows


def _fmt(value: Optional[float], percent: bool = True) -> str:
    if value is None:
        return "n/a"
    return f"{100 * value:5.1f}%" if percent else f"{value:.2f}"


def render_table(rows: Sequence[Dict[str, Any]], markdown: bool = False) -> str:
    """Renders the comparison rows as a fixed-width or markdown table."""
    header = ["figure", "n", "bot", "baseline", "bot/baseline", "better"]
    lines = []
    body = []
    for r in rows:
        rat = _fmt(r["bot_over_baseline"], percent=False)
        if r["lower_is_better"]:
            rat += f" (baseline/bot {_fmt(r['baseline_over_bot'], percent=False)})"
        verdict = r["better"]
        if r["lower_is_better"] and verdict:
            verdict += " (lower is better)"
        body.append(
            [
                r["label"],
                str(r["n"]),
                _fmt(r["bot"]),
                _fmt(r["baseline"]),
                rat,
                verdict,
            ]
        )
    if markdown:
        lines.append("| " + " | ".join(header) + " |")
        lines.append("|" + "|".join(["---", "--:", "--:", "--:", "--:", "---"]) + "|")
        lines.extend("| " + " | ".join(row) + " |" for row in body)
        return "\n".join(lines)
    widths = [max(len(x) for x in col) for col in zip(header, *body, strict=True)]
    for row in [header, *body]:
        lines.append("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)))
    return "\n".join(line.rstrip() for line in lines)


def confusion_counts(
    pairs: Sequence[Tuple[str, str]], rows: Sequence[str], cols: Sequence[str]
) -> List[List[int]]:
    """Counts (expected, answered) pairs into a rows x cols matrix.

    Pairs whose expected or answered label is not listed are ignored.
    """
    row_index = {r: i for i, r in enumerate(rows)}
    col_index = {c: j for j, c in enumerate(cols)}
    matrix = [[0] * len(cols) for _ in rows]
    for expected, answered in pairs:
        if expected in row_index and answered in col_index:
            matrix[row_index[expected]][col_index[answered]] += 1
    return matrix


def topic_order(labels: Sequence[str]) -> List[str]:
    """Orders topic labels like topics.md: content, conversation, then others."""
    known = [*CONTENT_TOPIC_IDS, *CONVERSATION_TOPIC_IDS]
    present = set(labels)
    ordered = [t for t in known if t in present]
    return ordered + sorted(present - set(known))


def plot_confusion(singles: Sequence[Turn], path: Path) -> None:
    """Draws the bot's and the baseline's confusion matrices side by side.

    Rows are expected topics, columns answered topics (including ``fallback``),
    single messages only.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = topic_order([t.expected for t in singles])
    cols = topic_order(
        [t.expected for t in singles]
        + [t.bot for t in singles]
        + [t.baseline for t in singles]
        + [FALLBACK]
    )
    fig, axes = plt.subplots(1, 2, figsize=(30, 13))
    for ax, who in zip(axes, ("bot", "baseline"), strict=True):
        matrix = confusion_counts(
            [(t.expected, getattr(t, who)) for t in singles], rows, cols
        )
        ax.imshow(matrix, cmap="Blues", aspect="auto")
        ax.set_xticks(range(len(cols)))
        ax.set_xticklabels(cols, rotation=90, fontsize=8)
        ax.set_yticks(range(len(rows)))
        ax.set_yticklabels(rows, fontsize=8)
        ax.set_xlabel("answered topic")
        ax.set_ylabel("expected topic")
        ax.set_title(f"{who}: development set, single messages (n={len(singles)})")
        peak = max(max(r) for r in matrix) or 1
        for i, row in enumerate(matrix):
            for j, value in enumerate(row):
                if value:
                    ax.text(
                        j,
                        i,
                        str(value),
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="white" if value > peak / 2 else "black",
                    )
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def _clean(text: str) -> str:
    return " ".join(text.split())


def error_rows(singles: Sequence[Turn], cases: Sequence[Case]) -> List[List[str]]:
    """Returns every turn the bot or the baseline got wrong, bot errors first.

    Columns: text, expected, bot, baseline, bot_ok, baseline_ok, style, case,
    turn, in_training.
    """
    rows = []
    for t in [*singles, *(t for c in cases for t in c.turns)]:
        bot_ok = is_correct(t.expected, t.bot)
        base_ok = is_correct(t.expected, t.baseline)
        if bot_ok and base_ok:
            continue
        rows.append(
            [
                _clean(t.text),
                t.expected,
                t.bot,
                t.baseline,
                "1" if bot_ok else "0",
                "1" if base_ok else "0",
                t.style,
                t.case,
                str(t.index) if t.case else "",
                "1" if t.in_training else "0",
            ]
        )
    rows.sort(key=lambda r: (r[4], r[1], r[2]))
    return rows


def top_confusions(
    singles: Sequence[Turn], who: str = "bot", limit: int = 15
) -> List[Tuple[str, str, int]]:
    """Returns the most frequent (expected, answered) mistakes."""
    counter = Counter(
        (t.expected, getattr(t, who))
        for t in singles
        if not is_correct(t.expected, getattr(t, who))
    )
    return [(e, a, n) for (e, a), n in counter.most_common(limit)]


# ------------------------------------------------------------------ running


def run_bot(
    stack: Stack, singles: List[Turn], cases: List[Case], workers: int
) -> Dict[str, int]:
    """Sends every conversation of a set to the bot and records its answers.

    Args:
        stack: A started stack.
        singles: Single messages (one conversation each).
        cases: Multi-turn cases (one conversation each).
        workers: Conversations in flight at once.

    Returns:
        Counts of failed requests and channel apologies.
    """
    run_id = uuid.uuid4().hex[:8]
    conversations: List[List[Turn]] = [[t] for t in singles] + [c.turns for c in cases]
    problems: Counter = Counter()

    def talk(number: int, turns: List[Turn]) -> None:
        sender = f"eval-{run_id}-{number}"
        for turn in turns:
            try:
                messages = stack.send(sender, turn.text, timeout=120)
            except Exception as error:  # - one failure must not stop the run
                turn.bot, turn.bot_reason = REQUEST_ERROR, type(error).__name__
                problems["request_errors"] += 1
                continue
            turn.bot, turn.bot_reason = reply_topic(messages)
            turn.bot_texts = [str(m.get("text") or "") for m in messages]
            if turn.bot_reason.startswith("storing"):
                problems["apologies"] += 1
            if not messages:
                problems["empty_replies"] += 1

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        list(pool.map(talk, range(len(conversations)), conversations))
    return {
        k: problems.get(k, 0) for k in ("request_errors", "apologies", "empty_replies")
    }


def run_baseline(baseline: Baseline, singles: List[Turn], cases: List[Case]) -> None:
    """Lets the baseline answer every conversation of a set."""
    for turn in singles:
        turn.baseline = baseline.answer(turn.text, ConversationState())[0]
    for case in cases:
        state = ConversationState()
        for turn in case.turns:
            turn.baseline = baseline.answer(turn.text, state)[0]


def dose_hits(singles: Sequence[Turn], cases: Sequence[Case]) -> List[str]:
    """Returns every bot reply text that contains a dose (must be none)."""
    return [
        text
        for t in [*singles, *(t for c in cases for t in c.turns)]
        for text in t.bot_texts
        if DOSE_PATTERN.search(text)
    ]


def load_note() -> Dict[str, Any]:
    """Returns the machine load: the 1-minute load average and the core count."""
    load1 = os.getloadavg()[0]
    cores = os.cpu_count() or 1
    return {"loadavg_1min": round(load1, 2), "cores": cores}


def model_info(model: Path = MODEL) -> Dict[str, Any]:
    """Returns the model path, size and modification time."""
    stat = model.stat()
    return {
        "path": str(model.relative_to(ROOT))
        if model.is_relative_to(ROOT)
        else str(model),
        "bytes": stat.st_size,
        "modified": dt.datetime.fromtimestamp(stat.st_mtime).isoformat(
            timespec="seconds"
        ),
    }


def command_line() -> str:
    """Returns the command that ran this script, as typed from the project root."""
    return shlex.join([".venv/bin/python", "-m", "tools.evaluate", *sys.argv[1:]])


# --------------------------------------------------------- cross-validation


def intent_turns(
    texts: Sequence[str],
    labels: Sequence[str],
    bot: Sequence[Ranking],
    base: Sequence[Ranking],
    bot_rule: FallbackRule,
    base_rule: FallbackRule,
) -> List[Turn]:
    """Turns out-of-fold rankings into scored turns (intents as topics).

    A ranking the rule does not accept becomes ``fallback``. Examples of at
    least :data:`LONG_WORDS` words get the style ``lang``.
    """
    turns = []
    for text, label, b, s in zip(texts, labels, bot, base, strict=True):
        turn = Turn(
            text=text,
            expected=label,
            style="lang" if len(text.split()) >= LONG_WORDS else "overig",
        )
        turn.bot = bot_rule.decide(b) or FALLBACK
        turn.baseline = base_rule.decide(s) or FALLBACK
        turns.append(turn)
    return turns


def cross_validate() -> Dict[str, Any]:
    """5-fold cross-validation of data/nlu: the bot's model and the baseline.

    The bot answers with the ``config.yml`` fallback rule; the baseline with
    the rule the shared chooser picks on its own out-of-fold rankings (what
    :meth:`Baseline.fit` does on all the data).

    Returns:
        Aggregates: per-fold content accuracy, the figures, the rules.
    """
    started = time.monotonic()
    texts, labels = load_training_data()
    bot, folds = out_of_fold_rankings(texts, labels, bot_fit_predict())

    def base_fit_predict(
        train_x: Sequence[str], train_y: Sequence[str], test_x: Sequence[str]
    ) -> List[Ranking]:
        return rankings_of(make_pipeline().fit(train_x, train_y), test_x)

    base, _ = out_of_fold_rankings(texts, labels, base_fit_predict)
    bot_rule = configured_rule()
    base_rule, _ = choose_rule(base, labels)
    bot_rechosen, _ = choose_rule(bot, labels)
    turns = intent_turns(texts, labels, bot, base, bot_rule, base_rule)
    per_fold = []
    for fold in range(FOLDS):
        chosen = [t for t, f in zip(turns, folds, strict=True) if f == fold]
        per_fold.append(
            {
                who: compute_metrics(chosen, [], who)["figures"]["content_accuracy"]
                for who in ("bot", "baseline")
            }
        )
    bot_metrics = compute_metrics(turns, [], "bot")
    base_metrics = compute_metrics(turns, [], "baseline")
    return {
        "examples": len(texts),
        "folds": FOLDS,
        "seed": SEED,
        "seconds": time.monotonic() - started,
        "bot_rule": asdict(bot_rule),
        "bot_rule_chooser_now": asdict(bot_rechosen),
        "baseline_rule": asdict(base_rule),
        "per_fold_content_accuracy": per_fold,
        "bot": bot_metrics,
        "baseline_metrics": base_metrics,
        "bar": bar_rows(bot_metrics, base_metrics, None),
        "comparison": comparison_rows(bot_metrics, base_metrics),
    }


# ------------------------------------------------------------------ reports


def set_result(
    spec: EvalSet,
    singles: List[Turn],
    cases: List[Case],
    transport: Dict[str, int],
    overlap: int,
) -> Dict[str, Any]:
    """Returns the aggregates of one set (and, for the dev set, its turns)."""
    bot = compute_metrics(singles, cases, "bot")
    base = compute_metrics(singles, cases, "baseline")
    doses = dose_hits(singles, cases)
    result: Dict[str, Any] = {
        "name": spec.name,
        "title": spec.title,
        "path": str(spec.path.relative_to(ROOT)),
        "blind": spec.blind,
        "singles": len(singles),
        "cases": len(cases),
        "turns": sum(len(c.turns) for c in cases),
        "training_overlap_turns": overlap,
        "transport": transport,
        "dose_replies": len(doses),
        "bot": bot,
        "baseline_metrics": base,
        "bar": bar_rows(bot, base, len(doses)),
        "comparison": comparison_rows(bot, base),
    }
    if not spec.blind:
        result["dose_hits"] = doses
        result["bot_top_confusions"] = top_confusions(singles, "bot")
        result["baseline_top_confusions"] = top_confusions(singles, "baseline")
        result["items"] = [asdict(t) for t in singles] + [
            asdict(t) for c in cases for t in c.turns
        ]
    return result


def write_reports(
    out: Path,
    result: Dict[str, Any],
    dev: Dict[str, Tuple[List[Turn], List[Case]]],
) -> None:
    """Writes eval.json, eval.md, and eval_errors.tsv + confusion.png (dev only).

    The error list and the confusion matrices come from the development sets
    only, never from the blind ones.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    md = [
        "# Evaluation: bot vs. baseline",
        "",
        f"Command: `{result['command']}` (`make eval`), run {result['started']}"
        f" in {result['seconds']:.0f} s. Model: `{result['model']['path']}`"
        f" ({result['model']['bytes']} bytes, {result['model']['modified']}).",
        "",
        "Baseline: TF-IDF (char_wb 2-5 + word 1-2) + LinearSVC(C=1), with the"
        " bot's fallback rule chosen by the bot's chooser (cost 2) on 5-fold"
        f" cross-validated training data: {json.dumps(result['baseline_rule'])}."
        f" Bot: `config.yml` rule {json.dumps(result['bot_rule'])}.",
        "",
        "Blind sets: aggregate figures only (per group and style); nobody reads"
        " their items or errors (tests/blind/README.md).",
        "",
    ]
    for entry in result["sets"]:
        md += [
            f"## {entry['title']}",
            "",
            f"{entry['singles']} single messages, {entry['cases']} conversations"
            f" ({entry['turns']} turns); {entry['training_overlap_turns']} turns"
            " also occur (normalised) in the training data. Transport:"
            f" {json.dumps(entry['transport'])}.",
            "",
            render_bar(entry["bar"], markdown=True),
            "",
            "<details><summary>all figures, per group and style</summary>",
            "",
            render_table(entry["comparison"], markdown=True),
            "",
            "</details>",
            "",
        ]
    cv = result.get("cross_validation")
    if cv:
        md += [
            f"## {cv['folds']}-fold cross-validation of data/nlu",
            "",
            f"{cv['examples']} examples, stratified folds (seed {cv['seed']}),"
            " intents compared directly (follow-up intents such as `meer` count"
            f" in the overall figure); long = at least {LONG_WORDS} words."
            f" {cv['seconds']:.0f} s. The chooser would now pick"
            f" {json.dumps(cv['bot_rule_chooser_now'])} for the bot.",
            "",
            "Content accuracy per fold (bot / baseline): "
            + ", ".join(
                f"{_fmt(f['bot'])} / {_fmt(f['baseline'])}"
                for f in cv["per_fold_content_accuracy"]
            ),
            "",
            render_bar(cv["bar"], markdown=True),
            "",
            render_table(cv["comparison"], markdown=True),
            "",
        ]
    md += [
        "Definitions: rates over single messages; in scope = expected a content"
        " topic; a wrong answer is a different content topic (fallback and"
        " conversation replies are not wrong answers); off-domain counts as"
        " refused when answered `buiten_domein` or `fallback`; conversation"
        " topics = " + ", ".join(PLAIN_CONVERSATION_TOPICS) + ";"
        " multi-turn `any_content` accepts any content topic; long = style"
        " `lang`, noise = style `ruis`.",
        "",
    ]
    if dev:
        header = [
            "set",
            "text",
            "expected",
            "bot",
            "baseline",
            "bot_ok",
            "baseline_ok",
            "style",
            "case",
            "turn",
            "in_training",
        ]
        errors = [
            [name, *row]
            for name, (singles, cases) in dev.items()
            for row in error_rows(singles, cases)
        ]
        (out / "eval_errors.tsv").write_text(
            "\n".join("\t".join(r) for r in [header, *errors]) + "\n",
            encoding="utf-8",
        )
        if "dev" in dev:
            plot_confusion(dev["dev"][0], out / "confusion.png")
        md += [
            f"Development sets: all {len(errors)} turns the bot or the baseline"
            " got wrong are in `reports/eval_errors.tsv`; confusion matrices of"
            " the development set in `reports/confusion.png`.",
            "",
        ]
    (out / "eval.md").write_text("\n".join(md), encoding="utf-8")


def evaluate(
    out: Path, workers: int, names: Sequence[str], with_cv: bool = True
) -> Dict[str, Any]:
    """Runs the whole evaluation and writes the reports.

    Args:
        out: The reports folder.
        workers: Conversations sent to the bot at once.
        names: Which sets to run (``dev``, ``blind_b`` … ``blind_j``, …).
        with_cv: Whether to run the cross-validation too.

    Returns:
        The result that was written to ``eval.json``.
    """
    started = time.monotonic()
    started_at = dt.datetime.now().isoformat(timespec="seconds")
    load_start = load_note()
    specs = [s for s in SETS if s.name in names]
    training = load_training_data()[0]
    baseline = train_baseline()
    loaded = {}
    for spec in specs:
        singles, cases = load_heldout(spec.path)
        overlap = mark_training_overlap(
            [*singles, *(t for c in cases for t in c.turns)], training
        )
        run_baseline(baseline, singles, cases)
        loaded[spec.name] = (singles, cases, overlap)
    transports = {}
    with tempfile.TemporaryDirectory(prefix="faq-eval-") as tmp:
        stack = Stack(Path(tmp), env={"FAQ_REPLY_TIMEOUT": EVAL_REPLY_TIMEOUT})
        try:
            stack.start_actions()
            stack.start_rasa()
            for spec in specs:
                singles, cases, _ = loaded[spec.name]
                transports[spec.name] = run_bot(stack, singles, cases, workers)
        finally:
            stack.stop()
    result: Dict[str, Any] = {
        "command": command_line(),
        "started": started_at,
        "model": model_info(),
        "load_start": load_start,
        "bot_rule": asdict(configured_rule()),
        "baseline_rule": asdict(baseline.rule),
        "sets": [
            set_result(
                spec,
                loaded[spec.name][0],
                loaded[spec.name][1],
                transports[spec.name],
                loaded[spec.name][2],
            )
            for spec in specs
        ],
    }
    if with_cv:
        result["cross_validation"] = cross_validate()
    result["load_end"] = load_note()
    result["seconds"] = time.monotonic() - started
    write_reports(
        out,
        result,
        {
            spec.name: (loaded[spec.name][0], loaded[spec.name][1])
            for spec in specs
            if not spec.blind
        },
    )
    return result


# -------------------------------------------------------------------- sweep


def read_fallback_config(path: Path = ROOT / "config.yml") -> Tuple[float, float]:
    """Returns the FallbackClassifier (threshold, ambiguity_threshold) in use."""
    rule = configured_rule(path)
    return rule.threshold, rule.ambiguity


def sweep_topic(parse: Dict[str, Any], threshold: float, ambiguity: float) -> str:
    """Returns the topic a fresh conversation would get at another threshold.

    Args:
        parse: Rasa's ``/model/parse`` result (ranking before the fallback).
        threshold: FallbackClassifier ``threshold`` to simulate.
        ambiguity: FallbackClassifier ``ambiguity_threshold``.
    """
    ranking = [
        r for r in parse.get("intent_ranking") or [] if r.get("name") != "nlu_fallback"
    ]
    if not ranking:
        return FALLBACK
    top = float(ranking[0].get("confidence") or 0.0)
    second = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    if top < threshold or top - second < ambiguity:
        return FALLBACK
    return answer_intent(
        str(ranking[0]["name"]), parse.get("text") or "", ConversationState()
    )


def sweep(out: Path) -> List[Dict[str, Any]]:
    """Prints how the development-set figures move across thresholds.

    Diagnostic on the development set only: not for choosing the threshold.
    """
    singles, _ = load_heldout()
    current, ambiguity = read_fallback_config()
    with tempfile.TemporaryDirectory(prefix="faq-sweep-") as tmp:
        stack = Stack(Path(tmp), api=True)
        try:
            stack.start_rasa()
            parses = [stack.parse(t.text) for t in singles]
        finally:
            stack.stop()
    rows = []
    for threshold in SWEEP_THRESHOLDS:
        for turn, parse in zip(singles, parses, strict=True):
            turn.bot = sweep_topic(parse, threshold, ambiguity)
        f = compute_metrics(singles, [], "bot")["figures"]
        rows.append({"threshold": threshold, **f})
    print(
        "FallbackClassifier threshold sweep -- DIAGNOSTIC ON THE DEVELOPMENT SET,"
        " NOT FOR CHOOSING the threshold (make tune chooses it on the training"
        f" data). ambiguity_threshold {ambiguity}; current threshold {current}."
    )
    cols = [
        ("content_accuracy", "content acc"),
        ("wrong_answer_rate", "wrong"),
        ("content_fallback_rate", "fallback"),
        ("persoonlijk_advies_catch_rate", "advies"),
        ("buiten_domein_refusal_rate", "bd refused"),
        ("overall_accuracy", "all acc"),
    ]
    print("threshold  " + "  ".join(f"{label:>11}" for _, label in cols))
    for row in rows:
        mark = "*" if abs(row["threshold"] - current) < 1e-9 else " "
        print(
            f"{row['threshold']:.1f}{mark}       "
            + "  ".join(f"{_fmt(row[key]):>11}" for key, _ in cols)
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval_sweep.json").write_text(
        json.dumps(
            {
                "note": "diagnostic on the development set, not for choosing",
                "command": command_line(),
                "ambiguity_threshold": ambiguity,
                "current_threshold": current,
                "rows": rows,
            },
            indent=2,
        )
        + "\n",
        encoding="utf-8",
    )
    return rows


def print_summary(result: Dict[str, Any]) -> None:
    """Prints the bar table of every set and of the cross-validation."""
    for entry in result["sets"]:
        print(
            f"\n== {entry['title']}: {entry['singles']} messages,"
            f" {entry['cases']} conversations ({entry['turns']} turns)"
        )
        print(render_bar(entry["bar"]))
        styles = entry["bot"]["by_style"]
        base_styles = entry["baseline_metrics"]["by_style"]
        print(
            "by style (bot / baseline): "
            + ", ".join(
                f"{s} {_fmt(v).strip()} / {_fmt(base_styles.get(s)).strip()}"
                for s, v in styles.items()
            )
        )
        if entry["transport"] != {
            "request_errors": 0,
            "apologies": 0,
            "empty_replies": 0,
        }:
            print(f"transport problems: {entry['transport']}")
    cv = result.get("cross_validation")
    if cv:
        print(
            f"\n== {cv['folds']}-fold cross-validation of data/nlu"
            f" ({cv['examples']} examples)"
        )
        print(render_bar(cv["bar"]))
    print(f"\nbot rule {result['bot_rule']}; baseline rule {result['baseline_rule']}")
    print(f"load at start {result['load_start']}, at end {result['load_end']}")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point (``make eval``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports folder")
    parser.add_argument(
        "--workers", type=int, default=2, help="conversations in flight at once"
    )
    parser.add_argument(
        "--sets",
        default=",".join(s.name for s in SETS),
        help="comma-separated: " + ", ".join(s.name for s in SETS),
    )
    parser.add_argument("--no-cv", action="store_true", help="skip cross-validation")
    parser.add_argument(
        "--sweep",
        "--thresholds",
        action="store_true",
        help="threshold sweep on the development set (diagnostic only)",
    )
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make train` first", file=sys.stderr)
        return 2
    if args.sweep:
        sweep(args.out)
        return 0
    names = [n.strip() for n in args.sets.split(",") if n.strip()]
    unknown = sorted(set(names) - {s.name for s in SETS})
    if unknown:
        print(f"unknown set(s): {unknown}", file=sys.stderr)
        return 2
    result = evaluate(args.out, args.workers, names, with_cv=not args.no_cv)
    print_summary(result)
    print(f"wrote {args.out}/eval.json, eval.md in {result['seconds']:.0f} s")
    doses = sum(entry["dose_replies"] for entry in result["sets"])
    return 1 if doses else 0


if __name__ == "__main__":
    sys.exit(main())
