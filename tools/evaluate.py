"""Held-out evaluation of the bot against the TF-IDF + LinearSVC baseline.

``make eval``: starts the real stack (action server + Rasa server, via
:class:`tools.stack.Stack` in a temporary folder), sends every held-out
message of ``tests/heldout/messages.yml`` over REST, and reads the answered
topic from each reply's ``custom.topic`` (the first message with a topic).
Every ``single`` message is its own conversation; every ``multi_turn`` case is
one conversation. The baseline (``tools.baseline``) answers the same
messages with the same conversation structure.

Figures (single messages unless noted):

- content top-1 accuracy: expected a content topic, answered exactly that;
- wrong-answer rate: expected a content topic, answered a DIFFERENT content
  topic (fallback and conversation topics are not wrong answers);
- persoonlijk_advies catch rate; buiten_domein refusal rate, split into
  answered ``buiten_domein`` and answered ``fallback``;
- conversation topics accuracy (groet, afscheid, bedankt, bot_vraag, hulp,
  medewerker, kennisbank);
- multi-turn: fraction of turns correct (``any_content`` = any content topic)
  and fraction of cases with every turn correct;
- accuracy by writing style; dose check (bot replies matching DOSE_PATTERN).

Writes ``reports/eval.json``, ``reports/eval.md``, ``reports/confusion.png``
and ``reports/eval_errors.tsv`` (every message the bot or the baseline got
wrong: the list to improve the training data from).

``--sweep`` (not part of ``make eval``): parses the held-out single messages
with ``/model/parse`` and shows how the figures would move across
FallbackClassifier thresholds 0.3..0.9. That is a DIAGNOSTIC ON TEST DATA and
must not be used to choose the threshold (that would tune on the test set);
choose it with cross-validation on the training data, e.g.
``rasa test nlu --cross-validation``.

Usage:
    python -m tools.evaluate [--workers N] [--out reports]
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
    train_baseline,
)
from tools.stack import MODEL, Stack

HELDOUT = ROOT / "tests" / "heldout" / "messages.yml"
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
NEUTRAL = ("content_fallback_rate", "buiten_domein_as_fallback")
SWEEP_THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
#: Seconds the channel waits for Rasa before apologising: generous here, so a
#: busy machine cannot turn slow answers into wrong ones.
EVAL_REPLY_TIMEOUT = "60"
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
    "conversation_accuracy": "conversation topics accuracy",
    "overall_accuracy": "all single messages accuracy",
    "multi_turn_turn_accuracy": "multi-turn: turns correct",
    "multi_turn_case_accuracy": "multi-turn: cases fully correct",
}


@dataclass
class Turn:
    """One held-out user message, its expectation and both answers."""

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


@dataclass
class Case:
    """One multi-turn conversation of the held-out set."""

    name: str
    turns: List[Turn]


def load_heldout(path: Path = HELDOUT) -> Tuple[List[Turn], List[Case]]:
    """Reads the held-out test set.

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
    return singles, cases


def normalise(text: str) -> str:
    """Lower-cases a text and keeps only letters, digits and single spaces."""
    return " ".join(re.sub(r"[^\w]+", " ", text.lower()).split())


def mark_training_overlap(turns: Sequence[Turn], training: Sequence[str]) -> int:
    """Flags held-out turns whose text also occurs in the training data.

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
        (name -> number of messages scored), and ``by_style`` (style -> rate).
    """

    def answer(turn: Turn) -> str:
        return str(getattr(turn, who))

    in_scope = [t for t in singles if t.expected in CONTENT_TOPIC_IDS]
    unseen = [t for t in in_scope if not t.in_training]
    advice = [t for t in singles if t.expected == "persoonlijk_advies"]
    outside = [t for t in singles if t.expected == "buiten_domein"]
    chat = [t for t in singles if t.expected in PLAIN_CONVERSATION_TOPICS]
    turns = [t for c in cases for t in c.turns]

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
        "conversation_accuracy": count(chat, right),
        "overall_accuracy": count(singles, accepted),
        "multi_turn_turn_accuracy": count(turns, accepted),
        "multi_turn_case_accuracy": count(
            cases, lambda c: all(accepted(t) for t in c.turns)
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


def _style_key(item: Tuple[str, Any]) -> Tuple[int, str]:
    order = ("standaard", "informeel", "typfout", "kort", "lang", "vlaams", "engels")
    return (order.index(item[0]) if item[0] in order else len(order), item[0])


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
        ax.set_title(f"{who}: held-out single messages (n={len(singles)})")
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
    """Sends every held-out conversation to the bot and records its answers.

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
    """Lets the baseline answer every held-out conversation."""
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


def write_reports(
    out: Path,
    singles: List[Turn],
    cases: List[Case],
    result: Dict[str, Any],
) -> None:
    """Writes eval.json, eval.md, eval_errors.tsv and confusion.png."""
    out.mkdir(parents=True, exist_ok=True)
    (out / "eval.json").write_text(
        json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    errors = error_rows(singles, cases)
    header = [
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
    (out / "eval_errors.tsv").write_text(
        "\n".join("\t".join(r) for r in [header, *errors]) + "\n", encoding="utf-8"
    )
    plot_confusion(singles, out / "confusion.png")
    rows = result["comparison"]
    confusions = result["bot_top_confusions"]
    md = [
        "# Held-out evaluation: bot vs. baseline",
        "",
        f"Command: `{result['command']}` (`make eval`), run {result['started']}"
        f" in {result['seconds']:.0f} s.",
        "",
        f"Model: `{result['model']['path']}` ({result['model']['bytes']} bytes,"
        f" {result['model']['modified']}). Test set: `tests/heldout/messages.yml`"
        f" ({len(singles)} single messages, {len(cases)} multi-turn cases,"
        f" {sum(len(c.turns) for c in cases)} turns).",
        "",
        f"Overlap: {result['training_overlap']['turns']} held-out turns also occur"
        " (normalised) in the training data; the `not in training data` rows"
        " leave those out (list in eval.json, `training_overlap`).",
        "",
        "Baseline: TF-IDF (char_wb 2-5 + word 1-2) + LinearSVC(C=1), fallback"
        f" below margin {result['baseline']['threshold']:.3f} (chosen on a 20 %"
        " stratified split of the training data; validation"
        f" {json.dumps(result['baseline']['validation'])}).",
        "",
        render_table(rows, markdown=True),
        "",
        f"Dose check: {len(result['dose_hits'])} bot replies match DOSE_PATTERN"
        " (must be 0).",
        "",
        f"Transport: {json.dumps(result['transport'])}; machine load at start"
        f" {json.dumps(result['load_start'])},"
        f" at end {json.dumps(result['load_end'])}.",
        "",
        "## Most frequent bot mistakes (single messages)",
        "",
        "| expected | bot answered | n |",
        "|---|---|--:|",
        *(f"| {e} | {a} | {n} |" for e, a, n in confusions),
        "",
        f"All {len(errors)} turns the bot or the baseline got wrong:"
        " `reports/eval_errors.tsv`. Confusion matrices: `reports/confusion.png`.",
        "",
        "Definitions: rates over single messages; in scope = expected a content"
        " topic; a wrong answer is a different content topic (fallback and"
        " conversation replies are not wrong answers); buiten_domein counts as"
        " refused when answered `buiten_domein` or `fallback`; conversation"
        " topics = " + ", ".join(PLAIN_CONVERSATION_TOPICS) + ";"
        " multi-turn `any_content` accepts any content topic.",
        "",
    ]
    (out / "eval.md").write_text("\n".join(md), encoding="utf-8")


def evaluate(out: Path, workers: int) -> Dict[str, Any]:
    """Runs the whole evaluation and writes the reports.

    Args:
        out: The reports folder.
        workers: Conversations sent to the bot at once.

    Returns:
        The result that was written to ``eval.json``.
    """
    started = time.monotonic()
    started_at = dt.datetime.now().isoformat(timespec="seconds")
    load_start = load_note()
    singles, cases = load_heldout()
    overlap = mark_training_overlap(
        [*singles, *(t for c in cases for t in c.turns)], load_training_data()[0]
    )
    baseline = train_baseline()
    run_baseline(baseline, singles, cases)
    with tempfile.TemporaryDirectory(prefix="faq-eval-") as tmp:
        stack = Stack(Path(tmp), env={"FAQ_REPLY_TIMEOUT": EVAL_REPLY_TIMEOUT})
        try:
            stack.start_actions()
            stack.start_rasa()
            transport = run_bot(stack, singles, cases, workers)
        finally:
            stack.stop()
    bot = compute_metrics(singles, cases, "bot")
    base = compute_metrics(singles, cases, "baseline")
    result = {
        "command": command_line(),
        "started": started_at,
        "seconds": time.monotonic() - started,
        "model": model_info(),
        "load_start": load_start,
        "load_end": load_note(),
        "transport": transport,
        "training_overlap": {
            "turns": overlap,
            "texts": sorted(
                {
                    t.text
                    for t in [*singles, *(t for c in cases for t in c.turns)]
                    if t.in_training
                }
            ),
        },
        "baseline": {
            "threshold": baseline.threshold,
            "validation": baseline.validation,
        },
        "bot": bot,
        "baseline_metrics": base,
        "comparison": comparison_rows(bot, base),
        "dose_hits": dose_hits(singles, cases),
        "bot_top_confusions": top_confusions(singles, "bot"),
        "baseline_top_confusions": top_confusions(singles, "baseline"),
        "turns": [asdict(t) for t in singles]
        + [asdict(t) for c in cases for t in c.turns],
    }
    write_reports(out, singles, cases, result)
    return result


# -------------------------------------------------------------------- sweep


def read_fallback_config(path: Path = ROOT / "config.yml") -> Tuple[float, float]:
    """Returns the FallbackClassifier (threshold, ambiguity_threshold) in use."""
    config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    for component in config.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return (
                float(component.get("threshold", 0.3)),
                float(component.get("ambiguity_threshold", 0.1)),
            )
    return 0.3, 0.1


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
    """Prints how the figures move across FallbackClassifier thresholds.

    Diagnostic on the TEST data only: not for choosing the threshold.
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
        "FallbackClassifier threshold sweep -- DIAGNOSTIC ON TEST DATA, NOT FOR"
        " CHOOSING the threshold (choose it by cross-validation on the training"
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
                "note": "diagnostic on test data, not for choosing",
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


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point (``make eval``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPORTS, help="reports folder")
    parser.add_argument(
        "--workers", type=int, default=2, help="conversations in flight at once"
    )
    parser.add_argument(
        "--sweep",
        "--thresholds",
        action="store_true",
        help="threshold sweep on the test data (diagnostic only, not for choosing)",
    )
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make train` first", file=sys.stderr)
        return 2
    if args.sweep:
        sweep(args.out)
        return 0
    result = evaluate(args.out, args.workers)
    print(render_table(result["comparison"]))
    print(
        f"dose check: {len(result['dose_hits'])} bot replies match DOSE_PATTERN"
        f" (must be 0); transport {result['transport']}"
    )
    print(f"load at start {result['load_start']}, at end {result['load_end']}")
    print(
        f"wrote {args.out}/eval.json, eval.md, eval_errors.tsv, confusion.png"
        f" in {result['seconds']:.0f} s"
    )
    return 1 if result["dose_hits"] else 0


if __name__ == "__main__":
    sys.exit(main())
