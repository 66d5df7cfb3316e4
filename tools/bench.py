"""Load and latency bench of the real stack, next to the baseline.

``make bench``: starts the action server and the Rasa server
(:class:`tools.stack.Stack`, temporary folder, SQLite tracker store) and
measures over the REST channel:

- latency p50/p95/p99 and throughput at 1, 8 and 32 concurrent conversations
  (each worker thread its own sender id and ``requests.Session``; a fixed list
  of 20 Dutch messages cycling; 20 warm-up messages per level, then 200
  measured ones), with HTTP errors, lost replies (no message) and channel
  apologies (``custom.reason`` ``storing:...``: no answer in time) counted;
- latency against conversation length: one conversation of 200 turns, median
  of turns 1-5, 18-22 and 196-200;
- two messages sent at once in one conversation (10 trials): both answered,
  time until both are answered, and whether each reply answers its own
  question;
- start-up time of both servers and their resident memory (VmRSS of the
  process tree) after the load;
- NLU parse time in-process: the trained model's NLU (``Agent.parse_message``:
  spaCy, entities, our intent classifier, fallback) on the 20 bench messages
  and the development set's single messages, p50/p95/p99, next to the
  baseline's classifier on the same texts in the same process and run (bar:
  p95 <= 5 ms); ``--nlu-only`` measures only this;
- training time: with ``--train`` a full ``rasa train`` into a temporary
  folder (written to ``reports/train_time.json``), else the last figure from
  that file;
- the baseline (``tools.baseline --serve``) measured the same way at the
  same levels, with the ratios bot/baseline for p50, p95 and throughput.

Every loop is bounded (message counts and per-phase deadlines) and every
request has a timeout; all servers are stopped at the end. Writes
``reports/bench.json`` and ``reports/bench.md``.

Usage:
    python -m tools.bench [--levels 1,8,32] [--messages 200] [--turns 200]
                            [--pairs 10] [--train] [--out reports]
    python -m tools.bench --insights [--conversations 100000]  (see bench_insights)
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import requests

from faq.settings import PROJECT_DIR as ROOT
from tools.stack import BIN, MODEL, Stack, free_port, tail

REPORTS = ROOT / "reports"
TRAIN_TIME = REPORTS / "train_time.json"

#: What the bench users say: content questions, follow-ups, conversation.
MESSAGES: Tuple[str, ...] = (
    "hallo",
    "hoe werken magnesium en vitamine d samen",
    "wat doet vitamine d in je lichaam",
    "vertel meer",
    "waarom heeft vitamine d magnesium nodig om te werken",
    "welke voeding bevat veel vitamine d",
    "en magnesium?",
    "hoe lang moet ik in de zon voor genoeg vitamine d",
    "welke vorm van magnesium is het beste",
    "wat zijn klachten bij een magnesiumtekort",
    "hoe kan ik een tekort laten vaststellen",
    "waarom combineer je d3 met k2",
    "welke bronnen gebruik je",
    "ben jij een robot",
    "wat kan ik je allemaal vragen",
    "wie loopt risico op een vitamine d tekort",
    "wat gebeurt er als magnesium en vitamine d uit balans zijn",
    "wat voor weer wordt het morgen",
    "dank je wel",
    "doei",
)
#: Two questions sent at once in one conversation (different topics).
PAIR = ("wat doet vitamine d in je lichaam", "welke vorm van magnesium is het beste")
LEVELS = (1, 8, 32)
REQUEST_TIMEOUT = 60.0
LEVEL_DEADLINE = 120.0
LENGTH_DEADLINE = 150.0
LENGTH_WINDOWS: Tuple[Tuple[int, int], ...] = ((1, 5), (18, 22), (196, 200))
#: The bar for one NLU parse (issue #8).
NLU_P95_BAR_SECONDS = 0.005
NLU_WARMUP = 20

OK, LOST, APOLOGY, ERROR = "ok", "lost", "apology", "error"

#: Sends one message as ``sender`` and returns the outcome and answered topic.
Target = Callable[[requests.Session, str, str], Tuple[str, Optional[str]]]


@dataclass
class Sample:
    """One request: when it started and ended, and how it went."""

    start: float
    end: float
    outcome: str
    topic: Optional[str] = None

    @property
    def latency(self) -> float:
        """Seconds from sending to the complete response."""
        return self.end - self.start


def percentiles(values: Sequence[float]) -> Dict[str, Optional[float]]:
    """Returns p50, p95 and p99 (linear interpolation); None when empty."""
    if not values:
        return {"p50": None, "p95": None, "p99": None}
    p50, p95, p99 = np.percentile(np.asarray(values, dtype=float), [50, 95, 99])
    return {"p50": float(p50), "p95": float(p95), "p99": float(p99)}


def summarise(samples: Sequence[Sample], requested: int) -> Dict[str, Any]:
    """Summarises one load level.

    Args:
        samples: The measured requests (not the warm-up).
        requested: How many were planned (fewer ran if the deadline hit).

    Returns:
        Counts per outcome, latency percentiles over every request that got an
        HTTP response, and throughput (answered messages per wall-clock second
        from the first send to the last response).
    """
    answered = [s for s in samples if s.outcome != ERROR]
    counts = {k: sum(s.outcome == k for s in samples) for k in (OK, LOST, APOLOGY)}
    counts[ERROR] = sum(s.outcome == ERROR for s in samples)
    wall = (
        max(s.end for s in samples) - min(s.start for s in samples) if samples else 0.0
    )
    return {
        "requested": requested,
        "sent": len(samples),
        **counts,
        "wall_seconds": wall,
        "throughput": (counts[OK] / wall) if wall > 0 else None,
        **percentiles([s.latency for s in answered]),
    }


def window_median(latencies: Sequence[float], first: int, last: int) -> Optional[float]:
    """Returns the median latency of turns ``first``..``last`` (1-based)."""
    window = list(latencies[first - 1 : last])
    return float(np.median(window)) if window else None


def bot_target(url: str, token: Optional[str] = None) -> Target:
    """Returns a sender for the bot's REST webhook at ``url``.

    With ``token`` (``FAQ_REST_TOKEN``) the bench is a server-to-server client
    and names its own conversations; without it the server refuses a sender
    it did not issue.
    """
    webhook = f"{url}/webhooks/rest/webhook"
    headers = {"Authorization": f"Bearer {token}"} if token else {}

    def send(session: requests.Session, sender: str, text: str) -> Tuple[str, Any]:
        try:
            response = session.post(
                webhook,
                json={"sender": sender, "message": text},
                timeout=REQUEST_TIMEOUT,
                # make stack's nginx keeps a conversation on one replica by it.
                headers={**headers, "X-Session-Id": sender},
            )
            if response.status_code != 200:
                return ERROR, None
            messages = response.json()
        except (requests.RequestException, ValueError):
            return ERROR, None
        if not messages:
            return LOST, None
        for message in messages:
            custom = message.get("custom") or {}
            if str(custom.get("reason") or "").startswith("storing"):
                return APOLOGY, custom.get("topic")
            if custom.get("topic"):
                return OK, custom["topic"]
        return OK, None

    return send


def baseline_target(url: str) -> Target:
    """Returns a sender for the baseline's ``POST /predict`` at ``url``."""

    def send(session: requests.Session, sender: str, text: str) -> Tuple[str, Any]:
        try:
            response = session.post(
                f"{url}/predict",
                json={"sender": sender, "text": text},
                timeout=REQUEST_TIMEOUT,
            )
            if response.status_code != 200:
                return ERROR, None
            topic = response.json().get("topic")
        except (requests.RequestException, ValueError, AttributeError):
            return ERROR, None
        return (OK, topic) if topic else (LOST, None)

    return send


def drive(
    target: Target, workers: int, total: int, prefix: str, deadline: float
) -> List[Sample]:
    """Sends ``total`` messages from ``workers`` concurrent conversations.

    Args:
        target: How to send one message.
        workers: Concurrent conversations (threads), each its own sender.
        total: Messages over all workers.
        prefix: Sender id prefix (unique per run and level).
        deadline: Seconds after which no new message is sent.

    Returns:
        One sample per message sent.
    """
    shares = [
        total // workers + (1 if w < total % workers else 0) for w in range(workers)
    ]
    barrier = threading.Barrier(workers)
    samples: List[Sample] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + deadline

    def worker(w: int) -> None:
        with requests.Session() as session:
            try:
                barrier.wait(timeout=30)
            except threading.BrokenBarrierError:
                pass
            for k in range(shares[w]):
                if time.monotonic() > stop_at:
                    break
                text = MESSAGES[(w * 7 + k) % len(MESSAGES)]
                start = time.perf_counter()
                outcome, topic = target(session, f"{prefix}-{w}", text)
                sample = Sample(start, time.perf_counter(), outcome, topic)
                with lock:
                    samples.append(sample)

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(worker, range(workers)))
    return samples


def run_levels(
    target: Target, levels: Sequence[int], messages: int, warmup: int, name: str
) -> Dict[str, Dict[str, Any]]:
    """Measures every concurrency level (warm-up first, not counted)."""
    run_id = uuid.uuid4().hex[:6]
    results = {}
    for level in levels:
        drive(target, level, warmup, f"{name}-{run_id}-warm{level}", LEVEL_DEADLINE)
        samples = drive(
            target, level, messages, f"{name}-{run_id}-c{level}", LEVEL_DEADLINE
        )
        results[str(level)] = summarise(samples, messages)
        r = results[str(level)]
        print(
            f"  {name} c={level}: p50 {_ms(r['p50'])} p95 {_ms(r['p95'])}"
            f" {_num(r['throughput'])} msg/s, errors {r['error']},"
            f" lost {r['lost']}, apologies {r['apology']}",
            flush=True,
        )
    return results


def conversation_length(target: Target, turns: int) -> Dict[str, Any]:
    """Sends ``turns`` messages in one conversation; latency at turn 1/20/200."""
    sender = f"bench-long-{uuid.uuid4().hex[:6]}"
    latencies: List[float] = []
    outcomes: Dict[str, int] = {}
    stop_at = time.monotonic() + LENGTH_DEADLINE
    with requests.Session() as session:
        for k in range(turns):
            if time.monotonic() > stop_at:
                break
            start = time.perf_counter()
            outcome, _ = target(session, sender, MESSAGES[k % len(MESSAGES)])
            latencies.append(time.perf_counter() - start)
            outcomes[outcome] = outcomes.get(outcome, 0) + 1
    windows = {
        f"turns_{a}_{b}": window_median(latencies, a, b)
        for a, b in LENGTH_WINDOWS
        if b <= len(latencies)
    }
    return {"turns_sent": len(latencies), "outcomes": outcomes, **windows}


def send_pair(target: Target, sender: str) -> List[Optional[Sample]]:
    """Sends both PAIR questions at the same moment as ``sender``."""
    barrier = threading.Barrier(2)
    results: List[Optional[Sample]] = [None, None]

    def one(i: int) -> None:
        with requests.Session() as session:
            try:
                barrier.wait(timeout=10)
            except threading.BrokenBarrierError:
                pass
            start = time.perf_counter()
            outcome, topic = target(session, sender, PAIR[i])
            results[i] = Sample(start, time.perf_counter(), outcome, topic)

    threads = [threading.Thread(target=one, args=(i,), daemon=True) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=REQUEST_TIMEOUT + 15)
    return list(results)


def same_conversation_pairs(target: Target, trials: int) -> Dict[str, Any]:
    """Sends two different questions at once in one conversation, ``trials`` times.

    The topic each question gets on its own (sent first in fresh conversations)
    is the reference; a pair is "in order" when each reply has its own
    question's reference topic.
    """
    with requests.Session() as session:
        reference = [
            target(session, f"bench-ref-{uuid.uuid4().hex[:6]}", q)[1] for q in PAIR
        ]
    both = in_order = 0
    times: List[float] = []
    for _ in range(trials):
        results = send_pair(target, f"bench-pair-{uuid.uuid4().hex[:6]}")
        done = [s for s in results if s is not None]
        if len(done) == 2 and all(s.outcome == OK for s in done):
            both += 1
            times.append(max(s.end for s in done) - min(s.start for s in done))
            if [s.topic for s in done] == reference:
                in_order += 1
    return {
        "trials": trials,
        "reference_topics": reference,
        "both_answered": both,
        "in_order": in_order,
        "max_seconds_until_both": max(times) if times else None,
        "median_seconds_until_both": float(np.median(times)) if times else None,
    }


# ------------------------------------------------------------ processes, CPU


def process_tree(root: int) -> List[int]:
    """Returns ``root`` and all its descendants (from /proc)."""
    children: Dict[int, List[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(children.get(pid, []))
    return tree


def rss_mib(root: int) -> float:
    """Returns the summed VmRSS of a process tree, in MiB."""
    total_kib = 0
    for pid in process_tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total_kib += int(line.split()[1])
        except OSError:
            continue
    return total_kib / 1024


def cpu_seconds(root: int) -> float:
    """Returns user+system CPU seconds used so far by a process tree."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in process_tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / ticks


def machine_busy_seconds() -> float:
    """Returns CPU seconds all processes have used since boot (/proc/stat)."""
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    user, nice, system, _idle, _iowait, irq, softirq, *rest = (int(x) for x in fields)
    steal = rest[0] if rest else 0
    return (user + nice + system + irq + softirq + steal) / os.sysconf("SC_CLK_TCK")


class BaselineServer:
    """The baseline's HTTP endpoint as a child process on a free port."""

    def __init__(self, workdir: Path) -> None:
        """Prepares the log file; starts nothing yet."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "baseline.log"
        self.process: Optional[subprocess.Popen] = None
        self.startup_seconds: Optional[float] = None

    def start(self, timeout: float = 120) -> None:
        """Starts the server (it trains first) and waits for ``/health``."""
        started = time.monotonic()
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(
                [
                    str(BIN / "python"),
                    "-m",
                    "tools.baseline",
                    "--serve",
                    "--port",
                    str(self.port),
                ],
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = started + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"baseline exited; log tail:\n{tail(self.log)}")
            try:
                if requests.get(f"{self.url}/health", timeout=2).status_code == 200:
                    self.startup_seconds = time.monotonic() - started
                    return
            except requests.RequestException:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"baseline not up after {timeout:.0f}s")

    def stop(self) -> None:
        """Stops the server (its process group)."""
        if self.process is None or self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(timeout=10)
        except (subprocess.TimeoutExpired, ProcessLookupError):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.process.wait(timeout=10)


# ------------------------------------------------------------- make stack

#: Settings of ``make stack`` for the bench: the bench drives every
#: conversation from one address with the REST token, as the single-process
#: bench does (limits off there too).
BENCH_STACK_ENV = {
    "FAQ_RATE_PER_IP": "0",
    "FAQ_RATE_PER_CONVERSATION": "0",
    "STACK_NGINX_RATE": "10000r/s",
    "STACK_NGINX_BURST": "10000",
}


def bench_stack(args: argparse.Namespace, levels: Sequence[int]) -> Dict[str, Any]:
    """Measures ``make stack`` through nginx at the same levels.

    Starts (or re-configures) the stack with :data:`BENCH_STACK_ENV` through
    ``scripts/stack.sh up`` and leaves it running (``make stack-down``).
    """
    from tools.stack import RemoteStack

    print("starting make stack (PostgreSQL, Redis, 2+2 servers, nginx) ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), "up"],
        cwd=ROOT,
        env={**os.environ, **BENCH_STACK_ENV},
        check=True,
        timeout=1800,
        stdout=subprocess.DEVNULL,
    )
    stack = RemoteStack(os.environ.get("FAQ_STACK_URL") or "http://127.0.0.1:8088")
    stack.wait_healthy()
    up_seconds = time.monotonic() - started
    pids = stack.pids()
    cpu_before = sum(cpu_seconds(pid) for pid in pids.values())
    target = bot_target(stack.url, stack.rest_token)
    result: Dict[str, Any] = {
        "up_seconds": up_seconds,
        "levels": run_levels(target, levels, args.messages, args.warmup, "stack"),
    }
    result["rss_mib"] = {name: rss_mib(pid) for name, pid in pids.items()}
    result["cpu_seconds"] = sum(cpu_seconds(pid) for pid in pids.values()) - cpu_before
    return result


STACK_HEADER = [
    "conc.",
    "1 process p50",
    "1 process p95",
    "1 process msg/s",
    "stack p50",
    "stack p95",
    "stack msg/s",
    "stack err/lost/apol.",
    "base p50",
    "base p95",
    "base msg/s",
]


def stack_rows(result: Dict[str, Any]) -> List[List[str]]:
    """Single process, make stack and baseline side by side, per level."""
    rows = []
    for level, one in result["bot"]["levels"].items():
        stack = result["stack"]["levels"].get(level, {})
        base = result.get("baseline", {}).get("levels", {}).get(level, {})
        rows.append(
            [
                level,
                _ms(one["p50"]),
                _ms(one["p95"]),
                _num(one["throughput"]),
                _ms(stack.get("p50")),
                _ms(stack.get("p95")),
                _num(stack.get("throughput")),
                f"{stack.get('error')}/{stack.get('lost')}/{stack.get('apology')}",
                _ms(base.get("p50")),
                _ms(base.get("p95")),
                _num(base.get("throughput")),
            ]
        )
    return rows


# ---------------------------------------------------------------------- NLU


def nlu_texts() -> List[str]:
    """The bench messages plus the development set's single messages."""
    from tools.evaluate import load_heldout

    singles, _ = load_heldout()
    return [*MESSAGES, *(t.text for t in singles)]


def nlu_parse_latency(model: Path = MODEL) -> Dict[str, Any]:
    """Times NLU parses of the trained model and the baseline in this process.

    Both classify the same texts one at a time, after the same warm-up; the
    bot's figure is Rasa's whole NLU graph (``Agent.parse_message``) with
    logging as on the server (no debug output).
    """
    import asyncio
    import logging

    from rasa.core.agent import Agent
    from rasa.utils.log_utils import configure_structlog

    from tools.baseline import Baseline, load_training_data

    configure_structlog(logging.WARNING)
    texts = nlu_texts()
    agent = Agent.load(str(model))

    async def parse_all() -> List[float]:
        for text in texts[:NLU_WARMUP]:
            await agent.parse_message(text)
        times = []
        for text in texts:
            t0 = time.perf_counter()
            await agent.parse_message(text)
            times.append(time.perf_counter() - t0)
        return times

    bot_times = asyncio.run(parse_all())
    baseline = Baseline().fit(*load_training_data(), tune_threshold=False)
    for text in texts[:NLU_WARMUP]:
        baseline.predict_intent(text)
    base_times = []
    for text in texts:
        t0 = time.perf_counter()
        baseline.predict_intent(text)
        base_times.append(time.perf_counter() - t0)
    bot = percentiles(bot_times)
    base = percentiles(base_times)
    return {
        "messages": len(texts),
        "warmup": NLU_WARMUP,
        "bot": bot,
        "baseline": base,
        "p95_bar_seconds": NLU_P95_BAR_SECONDS,
        "bar_met": bot["p95"] is not None and bot["p95"] <= NLU_P95_BAR_SECONDS,
    }


def nlu_line(nlu: Dict[str, Any]) -> str:
    """One line: the bot's and the baseline's parse percentiles and the bar."""
    bot, base = nlu["bot"], nlu["baseline"]

    def ms(value: Optional[float]) -> str:
        return "n/a" if value is None else f"{1000 * value:.2f} ms"

    verdict = "met" if nlu["bar_met"] else "NOT met"
    return (
        f"bot p50/p95/p99 {ms(bot['p50'])} / {ms(bot['p95'])} / {ms(bot['p99'])};"
        f" baseline {ms(base['p50'])} / {ms(base['p95'])} / {ms(base['p99'])}"
        f" ({nlu['messages']} messages, same process and run); bar p95 <= "
        f"{1000 * nlu['p95_bar_seconds']:.0f} ms {verdict}"
    )


# ----------------------------------------------------------------- training


def train_from_scratch(timeout: float = 3600) -> Dict[str, Any]:
    """Trains a model from scratch into a temporary folder and times it."""
    which = subprocess.run(
        [str(BIN / "python"), "scripts/spacy_pipeline.py", "which"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    ).stdout.strip()
    with tempfile.TemporaryDirectory(prefix="faq-train-") as tmp:
        args = [
            str(BIN / "rasa"),
            "train",
            "--out",
            tmp,
            "--fixed-model-name",
            "bench",
            "--quiet",
        ]
        env = {
            **os.environ,
            "RASA_SPACY_MODEL": which,
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            # An empty graph cache, so nothing is restored: a training from scratch.
            "RASA_CACHE_DIRECTORY": str(Path(tmp) / "cache"),
        }
        started = time.monotonic()
        done = subprocess.run(
            args,
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        seconds = time.monotonic() - started
    if done.returncode != 0:
        raise RuntimeError(f"rasa train failed:\n{done.stdout[-2000:]}{done.stderr}")
    result = {
        "seconds": seconds,
        "measured_at": dt.datetime.now().isoformat(timespec="seconds"),
        "command": "RASA_CACHE_DIRECTORY=<empty tmp> RASA_SPACY_MODEL=$(.venv/bin/"
        "python scripts/spacy_pipeline.py which) .venv/bin/rasa train --out <tmp> "
        "--fixed-model-name bench --quiet",
        "loadavg_1min_after": os.getloadavg()[0],
    }
    TRAIN_TIME.parent.mkdir(parents=True, exist_ok=True)
    TRAIN_TIME.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def last_train_time() -> Optional[Dict[str, Any]]:
    """Returns the last recorded training time, or None."""
    try:
        return json.loads(TRAIN_TIME.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


# ------------------------------------------------------------------ reports


def _ms(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{1000 * value:.0f} ms"


def _num(value: Optional[float], digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f}"


def _ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def level_rows(result: Dict[str, Any]) -> List[List[str]]:
    """Returns the latency/throughput table rows (bot vs baseline per level)."""
    rows = []
    for level, bot in result["bot"]["levels"].items():
        base = result.get("baseline", {}).get("levels", {}).get(level, {})
        rows.append(
            [
                level,
                _ms(bot["p50"]),
                _ms(bot["p95"]),
                _ms(bot["p99"]),
                _num(bot["throughput"]),
                f"{bot['error']}/{bot['lost']}/{bot['apology']}",
                f"{bot['sent']}/{bot['requested']}",
                _ms(base.get("p50")),
                _ms(base.get("p95")),
                _num(base.get("throughput")),
                _num(_ratio(bot["p50"], base.get("p50"))),
                _num(_ratio(bot["p95"], base.get("p95"))),
                _num(_ratio(bot["throughput"], base.get("throughput")), 3),
            ]
        )
    return rows


LEVEL_HEADER = [
    "conc.",
    "bot p50",
    "bot p95",
    "bot p99",
    "bot msg/s",
    "err/lost/apol.",
    "sent",
    "base p50",
    "base p95",
    "base msg/s",
    "p50 bot/base",
    "p95 bot/base",
    "msg/s bot/base",
]


def other_rows(result: Dict[str, Any]) -> List[List[str]]:
    """Returns the rows of the second table (length, pairs, start-up, memory)."""
    rows: List[List[str]] = []
    if result.get("nlu"):
        rows.append(["NLU parse, in-process", nlu_line(result["nlu"])])
    bot = result.get("bot")
    if not bot:
        if result.get("train"):
            rows.append(["time to train from scratch", train_line(result)])
        return rows
    length = bot["length"]
    pairs = bot["pairs"]
    rows += [
        [
            "latency by conversation length (median)",
            ", ".join(
                f"{k.replace('turns_', 'turns ').replace('_', '-')}: {_ms(v)}"
                for k, v in length.items()
                if k.startswith("turns_") and k != "turns_sent"
            )
            + f" ({length['turns_sent']} turns sent, outcomes {length['outcomes']})",
        ],
        [
            "2 messages at once, same conversation",
            f"both answered {pairs['both_answered']}/{pairs['trials']}, in order"
            f" {pairs['in_order']}/{pairs['trials']}, until both answered max"
            f" {_ms(pairs['max_seconds_until_both'])}"
            f" (median {_ms(pairs['median_seconds_until_both'])})",
        ],
        [
            "start-up",
            f"action server {_num(bot['startup_seconds'].get('actions'))} s,"
            f" Rasa server {_num(bot['startup_seconds'].get('rasa'))} s,"
            f" baseline {_num(result.get('baseline', {}).get('startup_seconds'))} s"
            " (incl. its training)",
        ],
        [
            "resident memory after load (VmRSS, process tree)",
            f"action server {_num(bot['rss_mib'].get('actions'), 0)} MiB,"
            f" Rasa server {_num(bot['rss_mib'].get('rasa'), 0)} MiB,"
            f" baseline {_num(result.get('baseline', {}).get('rss_mib'), 0)} MiB",
        ],
        ["time to train from scratch", train_line(result)],
        [
            "machine load",
            f"{result['load']['note']}",
        ],
    ]
    return rows


def train_line(result: Dict[str, Any]) -> str:
    """The training time with when it was measured (or how to measure it)."""
    train = result.get("train")
    if not train:
        return "not measured (run with --train)"
    return (
        f"{_num(train['seconds'], 0)} s (measured {train['measured_at']}"
        + ("" if result.get("trained_now") else ", reports/train_time.json")
        + ")"
    )


def render(result: Dict[str, Any], markdown: bool = False) -> str:
    """Renders both tables as text or markdown."""
    tables = [(["figure", "value"], other_rows(result))]
    if result.get("bot"):
        tables.insert(0, (LEVEL_HEADER, level_rows(result)))
    if "stack" in result:
        tables.insert(0, (STACK_HEADER, stack_rows(result)))
    out: List[str] = []
    for header, rows in tables:
        if markdown:
            out.append("| " + " | ".join(header) + " |")
            out.append("|" + "|".join("---" for _ in header) + "|")
            out.extend("| " + " | ".join(r) + " |" for r in rows)
        else:
            widths = [
                max(len(x) for x in col) for col in zip(header, *rows, strict=True)
            ]
            for row in [header, *rows]:
                out.append(
                    "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True))
                )
        out.append("")
    return "\n".join(line.rstrip() for line in out)


def load_summary(
    busy_before: float, busy_after: float, own_cpu: float, wall: float
) -> Dict[str, Any]:
    """Says how much CPU other processes used while the bench ran.

    Args:
        busy_before: Machine CPU seconds at the start.
        busy_after: Machine CPU seconds at the end.
        own_cpu: CPU seconds of the bench and the servers it started.
        wall: Seconds between the two readings.

    Returns:
        The other processes' average core use and a one-line note.
    """
    cores = os.cpu_count() or 1
    others = max(0.0, (busy_after - busy_before) - own_cpu)
    other_cores = others / wall if wall > 0 else 0.0
    loaded = other_cores >= 0.25
    note = (
        f"measured under load: other processes used {other_cores:.2f} of"
        f" {cores} cores on average"
        if loaded
        else f"quiet machine: other processes used {other_cores:.2f} of {cores} cores"
    )
    return {
        "cores": cores,
        "other_processes_cores": other_cores,
        "under_load": loaded,
        "note": note,
    }


def command_line() -> str:
    """Returns the command that ran this script, as typed from the project root."""
    return shlex.join([".venv/bin/python", "-m", "tools.bench", *sys.argv[1:]])


def write_reports(out: Path, result: Dict[str, Any]) -> None:
    """Writes bench.json and bench.md (bench_nlu.* for ``--nlu-only``)."""
    out.mkdir(parents=True, exist_ok=True)
    name = "bench" if result.get("bot") else "bench_nlu"
    (out / f"{name}.json").write_text(json.dumps(result, indent=2) + "\n")
    md = [
        "# Bench: latency, throughput, memory (bot vs. baseline)",
        "",
        f"Command: `{result['command']}` (`make bench`), run {result['started']}"
        f" in {result['seconds']:.0f} s. {result['load']['note'].capitalize()}.",
        "",
        f"REST channel, SQLite tracker store, {result['messages']} measured messages"
        f" per level after {result['warmup']} warm-up messages; {len(MESSAGES)}"
        " Dutch messages cycling, one sender per worker. err/lost/apol. = HTTP"
        " errors / replies without a message / channel apologies (no answer"
        " in time). Throughput counts answered messages.",
        "",
        render(result, markdown=True),
    ]
    if name == "bench_nlu":
        md[4:6] = [
            "NLU parse time only (`--nlu-only`): the trained model and the"
            " baseline classify the same messages in one process.",
            "",
        ]
    (out / f"{name}.md").write_text("\n".join(md), encoding="utf-8")


# --------------------------------------------------------------------- main


def bench(args: argparse.Namespace) -> Dict[str, Any]:
    """Runs every measurement and returns the result."""
    started = time.monotonic()
    started_at = dt.datetime.now().isoformat(timespec="seconds")
    levels = [int(x) for x in args.levels.split(",") if x.strip()]
    busy_before = machine_busy_seconds()
    own_before = sum(os.times()[:2])
    own_servers = 0.0
    result: Dict[str, Any] = {
        "command": command_line(),
        "started": started_at,
        "messages": args.messages,
        "warmup": args.warmup,
        "levels": levels,
    }
    print("timing NLU parses in-process (bot and baseline) ...", flush=True)
    result["nlu"] = nlu_parse_latency()
    if args.nlu_only:
        result["load"] = load_summary(
            busy_before,
            machine_busy_seconds(),
            sum(os.times()[:2]) - own_before,
            time.monotonic() - started,
        )
        add_training_time(result, args.train)
        result["seconds"] = time.monotonic() - started
        return result
    with tempfile.TemporaryDirectory(prefix="faq-bench-") as tmp:
        stack = Stack(Path(tmp) / "stack")
        try:
            print("starting the action server and the Rasa server ...", flush=True)
            stack.start_actions()
            stack.start_rasa()
            target = bot_target(stack.url, stack.rest_token)
            bot: Dict[str, Any] = {"startup_seconds": dict(stack.startup_seconds)}
            bot["levels"] = run_levels(
                target, levels, args.messages, args.warmup, "bot"
            )
            print(f"  one conversation of {args.turns} turns ...", flush=True)
            bot["length"] = conversation_length(target, args.turns)
            bot["pairs"] = same_conversation_pairs(target, args.pairs)
            pids = stack.pids()
            bot["rss_mib"] = {name: rss_mib(pid) for name, pid in pids.items()}
            own_servers += sum(cpu_seconds(pid) for pid in pids.values())
            result["bot"] = bot
        finally:
            stack.stop()
        if args.stack:
            result["stack"] = bench_stack(args, levels)
            own_servers += result["stack"].pop("cpu_seconds")
        if not args.skip_baseline:
            server = BaselineServer(Path(tmp))
            try:
                print("starting the baseline ...", flush=True)
                server.start()
                target = baseline_target(server.url)
                result["baseline"] = {
                    "startup_seconds": server.startup_seconds,
                    "levels": run_levels(
                        target, levels, args.messages, args.warmup, "baseline"
                    ),
                }
                assert server.process is not None
                result["baseline"]["rss_mib"] = rss_mib(server.process.pid)
                own_servers += cpu_seconds(server.process.pid)
            finally:
                server.stop()
    own = sum(os.times()[:2]) - own_before + own_servers
    result["load"] = load_summary(
        busy_before, machine_busy_seconds(), own, time.monotonic() - started
    )
    add_training_time(result, args.train)
    result["seconds"] = time.monotonic() - started
    return result


def add_training_time(result: Dict[str, Any], train: bool) -> None:
    """Times a training from scratch now, or adds the last recorded one."""
    if train:
        print("training from scratch into a temporary folder ...", flush=True)
        result["train"] = train_from_scratch()
        result["trained_now"] = True
    else:
        result["train"] = last_train_time()
        result["trained_now"] = False


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point (``make bench``)."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if "--insights" in arguments:  # make insights at scale (tools/bench_insights.py)
        from tools.bench_insights import main as bench_insights

        return bench_insights(arguments)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", default=",".join(map(str, LEVELS)))
    parser.add_argument("--messages", type=int, default=200, help="per level")
    parser.add_argument("--warmup", type=int, default=20, help="per level")
    parser.add_argument("--turns", type=int, default=200, help="long conversation")
    parser.add_argument("--pairs", type=int, default=10, help="same-sender trials")
    parser.add_argument("--train", action="store_true", help="time rasa train too")
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--stack", action="store_true", help="also make stack (nginx, 2 replicas)"
    )
    parser.add_argument(
        "--nlu-only", action="store_true", help="only the in-process NLU parse time"
    )
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)
    if not MODEL.exists():
        print(f"no trained model at {MODEL}: run `make train` first", file=sys.stderr)
        return 2
    result = bench(args)
    write_reports(args.out, result)
    print()
    print(render(result))
    print(f"NLU parse: {nlu_line(result['nlu'])}")
    name = "bench" if result.get("bot") else "bench_nlu"
    print(f"wrote {args.out}/{name}.json and {name}.md in {result['seconds']:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
