"""Scale bench of ``make insights``: a month of 100,000 conversations on SQLite.

``make bench BENCH_ARGS=--insights`` (or ``make bench-insights``):

1. generates a tracker store with Rasa's own ``events`` table (the schema of
   ``SQLTrackerStore``) holding ``--conversations`` conversations (default
   100,000) spread over ``--days`` days (default 30), written the way Rasa
   writes them: a session start, then per visitor message the user event with
   its NLU parse (10-intent ranking), the action, the bot message with its
   ``custom`` payload and buttons, slot events, ``action_listen``; with
   fallbacks, "bedoel je …?", handoffs, refused personal advice, feedback
   questions and ratings. Texts are the training examples of ``data/nlu``.
   Conversations are generated in batches of 1,000 whose events are
   interleaved by time, as concurrent conversations are;
2. runs ``python -m staff.insights`` on that month in a child process and
   reports its wall time and peak memory (the child's ``ru_maxrss`` from
   ``os.wait4``, i.e. ``getrusage``), against the bar: < 60 s, < 500 MB;
3. comparators, measured in the same run on the same file:
   - *floor*: a child that only reads the same rows page by page, parsing
     nothing (what any report must at least spend on I/O);
   - *naive*: a child that loads every tracker with Rasa's
     ``SQLTrackerStore.retrieve_full_tracker`` and keeps them, as a report
     built on the tracker-store API would; measured on the first
     ``--naive-sample`` conversations (default 2,000) and extrapolated
     linearly to all of them (marked as extrapolated).

Writes ``reports/bench_insights.json`` and ``.md``; prints the table.

Usage::

    python -m tools.bench --insights [--conversations 100000] [--days 30]
        [--naive-sample 2000] [--keep DB] [--out reports]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import resource
import shlex
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

import ujson
import yaml

from faq.settings import PROJECT_DIR as ROOT

REPORTS = ROOT / "reports"
PYTHON = sys.executable
TIME_BAR_S = 60.0
MEMORY_BAR_MB = 500.0
BATCH = 1000

#: Share of conversations per channel (conversation id prefix).
CHANNEL_SHARES = (
    ("socketio", 0.55),
    ("whatsapp", 0.30),
    ("rest", 0.10),
    ("rest-api", 0.05),
)
#: Visitor messages per conversation: weights for 1, 2, 3, … messages.
LENGTH_WEIGHTS = (30, 22, 15, 10, 7, 5, 4, 3, 2, 2)
MODEL_META = {"model_id": "b" * 32, "assistant_id": "magnesium-vitamine-d-faq"}


def training_texts() -> Dict[str, List[str]]:
    """Intent -> example texts from ``data/nlu`` (the generator's messages)."""
    texts: Dict[str, List[str]] = {}
    for path in sorted((ROOT / "data" / "nlu").glob("*.yml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        for block in data.get("nlu") or []:
            if "intent" not in block:
                continue
            lines = str(block.get("examples") or "").splitlines()
            examples = [line.strip()[2:] for line in lines if line.strip()[:2] == "- "]
            texts.setdefault(block["intent"], []).extend(e for e in examples if e)
    return texts


class Generator:
    """Writes Rasa-shaped events for synthetic conversations."""

    def __init__(self, seed: int = 42) -> None:
        from faq.content import CONTENT_TOPIC_IDS, get_content

        self.random = random.Random(seed)
        self.content = get_content()
        self.texts = training_texts()
        self.content_topics = [t for t in CONTENT_TOPIC_IDS if t in self.texts]
        self.intents = sorted(self.texts)

    # --- one event each -------------------------------------------------------

    def _row(
        self, sender: str, kind: str, ts: float, body: Dict[str, Any], **cols: Any
    ):
        body = {"event": kind, "timestamp": ts, **body}
        return (
            sender,
            kind,
            ts,
            cols.get("intent"),
            cols.get("action"),
            ujson.dumps(body, ensure_ascii=False),
        )

    def action(self, sender: str, ts: float, name: str) -> Tuple:
        """An ``action`` event."""
        body = {
            "metadata": MODEL_META,
            "name": name,
            "policy": "policy_1_WindowedRulePolicy",
            "confidence": 1.0,
            "action_text": None,
            "hide_rule_turn": name != "action_listen",
        }
        return self._row(sender, "action", ts, body, action=name)

    def slot(self, sender: str, ts: float, name: str, value: Any) -> Tuple:
        """A ``slot`` event."""
        body = {"metadata": MODEL_META, "name": name, "value": value}
        return self._row(sender, "slot", ts, body, action=name)

    def user(self, sender: str, ts: float, text: str, intent: str, conf: float):
        """A ``user`` event with an NLU parse (``nlu_fallback`` below 0.55)."""
        others = self.random.sample(self.intents, 9)
        rest = (1.0 - conf) / 9
        ranking = [{"name": intent, "confidence": conf}] + [
            {"name": o, "confidence": rest * self.random.random()} for o in others
        ]
        shown = "nlu_fallback" if conf < 0.55 and not text.startswith("/") else intent
        if shown == "nlu_fallback":
            ranking = [{"name": "nlu_fallback", "confidence": 0.55}, *ranking]
        message_id = uuid.UUID(int=self.random.getrandbits(128)).hex
        tokens, start = [], 0
        for word in text.split():
            tokens.append([start, start + len(word)])
            start += len(word) + 1
        body = {
            "metadata": MODEL_META,
            "text": text,
            "parse_data": {
                "intent": {"name": shown, "confidence": ranking[0]["confidence"]},
                "entities": [],
                "text": text,
                "message_id": message_id,
                "metadata": {},
                "text_tokens": tokens,
                "intent_ranking": ranking[:10],
            },
            "input_channel": sender.split(":", 1)[0],
            "message_id": message_id,
        }
        return self._row(sender, "user", ts, body, intent=shown)

    def bot(
        self,
        sender: str,
        ts: float,
        text: str,
        custom: Dict[str, Any],
        buttons: Optional[List[Dict[str, str]]] = None,
        response: Optional[str] = None,
    ) -> Tuple:
        """A ``bot`` event with its ``custom`` payload."""
        metadata = dict(MODEL_META)
        if response:
            metadata["utter_action"] = response
        body = {
            "metadata": metadata,
            "text": text,
            "data": {
                "elements": None,
                "quick_replies": None,
                "buttons": buttons,
                "attachment": None,
                "image": None,
                "custom": custom,
            },
        }
        return self._row(sender, "bot", ts, body)

    # --- one conversation -----------------------------------------------------

    def conversation(self, sender: str, ts: float) -> List[Tuple]:
        """The events of one conversation starting at ``ts``."""
        rnd = self.random
        rows = [
            self.action(sender, ts, "action_session_start"),
            self._row(sender, "session_started", ts, {"metadata": MODEL_META}),
            self.action(sender, ts, "action_listen"),
        ]
        length = rnd.choices(range(1, len(LENGTH_WEIGHTS) + 1), LENGTH_WEIGHTS)[0]
        asked_feedback = False
        for _ in range(length):
            ts += rnd.uniform(8, 90)
            roll = rnd.random()
            if roll < 0.10:  # not understood
                text = rnd.choice(self.texts.get("buiten_domein") or ["hmm"]) + " ?"
                rows += self._fallback(
                    sender, ts, text, did_you_mean=rnd.random() < 0.6
                )
                continue
            if roll < 0.13:
                rows += self._simple(sender, ts, "medewerker", "utter_medewerker", True)
                continue
            if roll < 0.17:
                rows += self._simple(
                    sender, ts, "persoonlijk_advies", "utter_persoonlijk_advies"
                )
                continue
            if roll < 0.27:
                intent = rnd.choice(["groet", "bedankt", "afscheid", "hulp"])
                rows += self._simple(sender, ts, intent, f"utter_{intent}")
                continue
            topic = rnd.choice(self.content_topics)
            rows += self._answer(sender, ts, topic, ask=not asked_feedback)
            if not asked_feedback:
                asked_feedback = True
                if rnd.random() < 0.3:
                    ts += rnd.uniform(3, 20)
                    rows += self._rating(sender, ts, topic, rnd.random() < 0.75)
        return rows

    def _simple(
        self, sender: str, ts: float, intent: str, response: str, handoff: bool = False
    ) -> List[Tuple]:
        text = self.random.choice(self.texts.get(intent) or [intent])
        custom: Dict[str, Any] = {"topic": intent, "sources": []}
        if handoff:
            custom["handoff"] = True
        return [
            self.user(sender, ts, text, intent, self.random.uniform(0.7, 1.0)),
            self._row(
                sender, "user_featurization", ts, {"use_text_for_featurization": False}
            ),
            self.action(sender, ts, f"action_{intent}"),
            self.bot(sender, ts, f"Antwoord op {intent}.", custom, response=response),
            self.action(sender, ts, "action_listen"),
        ]

    def _fallback(self, sender: str, ts: float, text: str, did_you_mean: bool):
        topic = self.random.choice(self.content_topics)
        return [
            self.user(sender, ts, text, topic, self.random.uniform(0.15, 0.54)),
            self.action(sender, ts, "action_fallback"),
            self.bot(
                sender,
                ts,
                "Ik weet niet zeker of ik je goed begrijp.",
                {"topic": "fallback", "sources": []},
                buttons=[{"title": "Onderwerp", "payload": f"/{topic}"}],
                response="utter_niet_zeker" if did_you_mean else "utter_niet_begrepen",
            ),
            self.slot(sender, ts, "aangeboden_topic", topic),
            self.action(sender, ts, "action_listen"),
        ]

    def _answer(self, sender: str, ts: float, topic_id: str, ask: bool) -> List[Tuple]:
        topic = self.content.topics[topic_id]
        button = self.random.random() < 0.25
        text = f"/{topic_id}" if button else self.random.choice(self.texts[topic_id])
        confidence = 1.0 if button else self.random.betavariate(8, 1.2) * 0.45 + 0.55
        buttons = [
            {"title": self.content.topics[t].title, "payload": f"/{t}"}
            for t in topic.related[:3]
        ]
        custom = {"topic": topic_id, "sources": list(topic.sources), "answer": "kort"}
        rows = [
            self.user(sender, ts, text, topic_id, confidence),
            self._row(
                sender, "user_featurization", ts, {"use_text_for_featurization": False}
            ),
            self.action(sender, ts, "action_answer_topic"),
            self.bot(sender, ts, topic.short, custom, buttons=buttons),
        ]
        if ask:
            rows.append(
                self.bot(
                    sender,
                    ts,
                    "Had je hier iets aan?",
                    {"topic": topic_id, "sources": [], "feedback": "vraag"},
                    buttons=[{"title": "Ja", "payload": "/feedback"}],
                    response="utter_feedback_vraag",
                )
            )
        rows += [
            self.slot(sender, ts, "laatste_topic", topic_id),
            self.slot(
                sender, ts, "feedback_stand", {"sinds": 0, "gevraagd": [topic_id]}
            ),
            self.action(sender, ts, "action_listen"),
        ]
        return rows

    def _rating(self, sender: str, ts: float, topic_id: str, helpful: bool):
        payload = json.dumps(
            {"onderwerp": topic_id, "oordeel": "ja" if helpful else "nee"}
        )
        return [
            self.user(sender, ts, f"/feedback{payload}", "feedback", 1.0),
            self.action(sender, ts, "action_feedback"),
            self.bot(
                sender,
                ts,
                "Bedankt voor je reactie!",
                {"topic": topic_id, "sources": [], "feedback": "nuttig"},
                response="utter_feedback_nuttig",
            ),
            self.slot(
                sender, ts, "feedback", {"onderwerp": topic_id, "nuttig": helpful}
            ),
            self.action(sender, ts, "action_listen"),
        ]

    def batches(
        self, conversations: int, start: float, seconds: float
    ) -> Iterator[List[Tuple]]:
        """Event rows in batches of ``BATCH`` conversations, in time order."""
        channels = [c for c, _ in CHANNEL_SHARES]
        weights = [w for _, w in CHANNEL_SHARES]
        step = seconds / conversations
        for first in range(0, conversations, BATCH):
            rows: List[Tuple] = []
            for n in range(first, min(first + BATCH, conversations)):
                channel = self.random.choices(channels, weights)[0]
                sender = (
                    f"whatsapp:+316{n:08d}"
                    if channel == "whatsapp"
                    else f"{channel}:{uuid.UUID(int=self.random.getrandbits(128)).hex}"
                )
                at = start + n * step + self.random.uniform(0, step)
                rows.extend(self.conversation(sender, at))
            rows.sort(key=lambda r: r[2])
            yield rows


def generate(path: Path, conversations: int, days: int, last_day: dt.date) -> Dict:
    """Creates the SQLite tracker store at ``path``; returns what it holds."""
    import sqlalchemy as sa
    from rasa.core.tracker_store import SQLTrackerStore

    from staff.events import epoch_range

    first_day = last_day - dt.timedelta(days=days - 1)
    start, end = epoch_range(first_day, last_day)
    engine = sa.create_engine(f"sqlite:///{path}")
    SQLTrackerStore.Base.metadata.create_all(engine)
    table = SQLTrackerStore.SQLEvent.__table__
    columns = [
        "sender_id",
        "type_name",
        "timestamp",
        "intent_name",
        "action_name",
        "data",
    ]
    rows = 0
    started = time.perf_counter()
    generator = Generator()
    with engine.begin() as connection:
        raw = connection.connection
        for batch in generator.batches(conversations, start, end - start - 3600):
            raw.executemany(
                f"INSERT INTO {table.name} ({', '.join(columns)}) VALUES (?,?,?,?,?,?)",
                batch,
            )
            rows += len(batch)
    engine.dispose()
    return {
        "conversations": conversations,
        "events": rows,
        "start": start,
        "end": end,
        "first_day": first_day.isoformat(),
        "last_day": last_day.isoformat(),
        "megabytes": path.stat().st_size / 1e6,
        "seconds": time.perf_counter() - started,
    }


def run_child(args: List[str]) -> Dict[str, Any]:
    """Runs a child process; returns its wall time and peak memory (ru_maxrss)."""
    started = time.perf_counter()
    process = subprocess.Popen(
        args, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    assert process.stdout is not None
    output = process.stdout.read().decode("utf-8", "replace")
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    return {
        "seconds": seconds,
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_mb": usage.ru_maxrss / 1024.0,  # Linux reports KiB
        "exit": process.returncode,
        "output": output[-3000:],
    }


FLOOR = """
import sys, sqlalchemy as sa
from staff.events import _rows
engine = sa.create_engine("sqlite:///" + sys.argv[1])
rows = sum(1 for _ in _rows(engine, float(sys.argv[2]), float(sys.argv[3]), 2000))
print("rows", rows)
"""

NAIVE = """
import asyncio, json, resource, sys, time, sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
store = SQLTrackerStore(dialect="sqlite", db=sys.argv[1])
engine = sa.create_engine("sqlite:///" + sys.argv[1])
with engine.connect() as c:
    senders = [r[0] for r in c.execute(sa.text(
        "SELECT sender_id FROM events GROUP BY sender_id ORDER BY min(id) LIMIT :n"),
        {"n": int(sys.argv[2])})]
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
started = time.perf_counter()
async def main():
    return [await store.retrieve_full_tracker(s) for s in senders]
trackers = asyncio.run(main())
print(json.dumps({"base_mb": base, "load_seconds": time.perf_counter() - started,
                  "trackers": len(trackers),
                  "events": sum(len(t.events) for t in trackers)}))
"""


def bench(args: argparse.Namespace) -> Dict[str, Any]:
    """Generates the month, measures the report and the comparators.

    Everything heavy runs in child processes, the generator too: the peak
    memory of a child (``ru_maxrss``) includes what it inherited when it was
    forked, so this process stays small (its own peak is reported as well).
    """
    result: Dict[str, Any] = {
        "command": shlex.join([".venv/bin/python", "-m", "tools.bench", *sys.argv[1:]]),
        "started": dt.datetime.now().isoformat(timespec="seconds"),
    }
    last_day = dt.date.today() - dt.timedelta(days=1)
    with tempfile.TemporaryDirectory(prefix="faq-insights-bench-") as tmp:
        db = Path(args.keep) if args.keep else Path(tmp) / "tracker.db"
        if db.exists():
            db.unlink()
        print(
            f"generating {args.conversations} conversations over {args.days} days ..."
        )
        made = run_child(
            [
                PYTHON,
                "-m",
                "tools.bench_insights",
                "--generate",
                str(db),
                "--conversations",
                str(args.conversations),
                "--days",
                str(args.days),
                "--last-day",
                last_day.isoformat(),
            ]
        )
        if made["exit"] != 0:
            raise SystemExit(f"generating failed:\n{made['output']}")
        data = json.loads(made["output"].strip().splitlines()[-1])
        result["data"] = data
        print(
            f"  {data['events']} events, {data['megabytes']:.0f} MB,"
            f" {data['seconds']:.0f} s"
        )

        print("make insights on the month (child process) ...")
        report = run_child(
            [
                PYTHON,
                "-m",
                "staff.insights",
                "--db",
                str(db),
                "--van",
                data["first_day"],
                "--tot",
                data["last_day"],
                "--out",
                str(Path(tmp) / "report"),
            ]
        )
        if report["exit"] != 0:
            raise SystemExit(f"staff.insights failed:\n{report['output']}")
        result["insights"] = report
        print(
            f"  {report['seconds']:.1f} s ({report['cpu_seconds']:.1f} s CPU),"
            f" peak {report['peak_mb']:.0f} MB"
        )

        print("comparator: reading the same rows, parsing nothing ...")
        result["floor"] = run_child(
            [PYTHON, "-c", FLOOR, str(db), str(data["start"]), str(data["end"])]
        )
        print("comparator: loading trackers with SQLTrackerStore (sample) ...")
        naive = run_child([PYTHON, "-c", NAIVE, str(db), str(args.naive_sample)])
        if naive["exit"] != 0:
            raise SystemExit(f"the naive comparator failed:\n{naive['output']}")
        inner = json.loads(naive["output"].strip().splitlines()[-1])
        scale = args.conversations / max(1, inner["trackers"])
        naive.update(inner)
        naive["sample"] = inner["trackers"]
        naive["extrapolated_seconds"] = inner["load_seconds"] * scale
        naive["extrapolated_peak_mb"] = (
            inner["base_mb"] + (naive["peak_mb"] - inner["base_mb"]) * scale
        )
        result["naive"] = naive
    result["launcher_peak_mb"] = (
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    )
    result["load"] = os.getloadavg()
    return result


def render(result: Dict[str, Any]) -> str:
    """The result as a Markdown table."""
    report, floor, naive = result["insights"], result["floor"], result["naive"]
    data = result["data"]
    time_ok = report["seconds"] < TIME_BAR_S
    memory_ok = report["peak_mb"] < MEMORY_BAR_MB
    time_verdict = f"{'<' if time_ok else '≥'} {TIME_BAR_S:.0f} s: " + (
        "met" if time_ok else "NOT met"
    )
    memory_verdict = f"{'<' if memory_ok else '≥'} {MEMORY_BAR_MB:.0f} MB: " + (
        "met" if memory_ok else "NOT met"
    )
    lines = [
        f"{data['conversations']} conversations, {data['events']} events,"
        f" {data['megabytes']:.0f} MB SQLite, {data['first_day']} .. {data['last_day']}"
        f" (generated in {data['seconds']:.0f} s)",
        "",
        "| what | wall time | CPU time | peak memory |",
        "|---|--:|--:|--:|",
        f"| `make insights` on the month | **{report['seconds']:.1f} s**"
        f" ({time_verdict}) | {report['cpu_seconds']:.1f} s"
        f" | **{report['peak_mb']:.0f} MB** ({memory_verdict}) |",
        f"| floor: read the same rows, parse nothing | {floor['seconds']:.1f} s"
        f" | {floor['cpu_seconds']:.1f} s | {floor['peak_mb']:.0f} MB |",
        f"| naive: SQLTrackerStore.retrieve_full_tracker, {naive['sample']}"
        f" conversations kept | {naive['seconds']:.1f} s"
        f" | {naive['cpu_seconds']:.1f} s | {naive['peak_mb']:.0f} MB |",
        f"| naive, extrapolated to {data['conversations']} (loading"
        f" {naive['load_seconds']:.1f} s and"
        f" {naive['peak_mb'] - naive['base_mb']:.0f} MB per {naive['sample']})"
        f" | ~{naive['extrapolated_seconds']:.0f} s | –"
        f" | ~{naive['extrapolated_peak_mb']:.0f} MB |",
        "",
        f"Peak memory is each child's ru_maxrss (os.wait4); the launcher that forks"
        f" them peaked at {result['launcher_peak_mb']:.0f} MB. Load average during"
        f" the run: {', '.join(f'{x:.2f}' for x in result['load'])}"
        f" ({os.cpu_count()} cores).",
    ]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line: ``python -m tools.bench --insights``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--insights", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--conversations", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--naive-sample", type=int, default=2000)
    parser.add_argument("--keep", help="write the generated database here (kept)")
    parser.add_argument("--out", type=Path, default=REPORTS)
    parser.add_argument("--generate", help=argparse.SUPPRESS)  # the child's job
    parser.add_argument(
        "--last-day", type=dt.date.fromisoformat, help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.generate:
        last = args.last_day or dt.date.today() - dt.timedelta(days=1)
        data = generate(Path(args.generate), args.conversations, args.days, last)
        print(json.dumps(data))
        return 0
    result = bench(args)
    table = render(result)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "bench_insights.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "bench_insights.md").write_text(
        f"# Bench: make insights at scale\n\nCommand: `{result['command']}`,"
        f" run {result['started']}.\n\n{table}\n",
        encoding="utf-8",
    )
    print()
    print(table)
    print(f"wrote {args.out}/bench_insights.json and .md")
    return 0 if result["insights"]["exit"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
