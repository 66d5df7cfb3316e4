"""Chaos through nginx: faults while 32 people talk to ``make stack``.

``make chaos`` starts the stack (``scripts/stack.sh up``; production limits
except 120 messages a minute per conversation, since these scripted users
type faster than people) and runs one scenario per fault. In each, 32
conversations of 50 turns each talk to nginx as the website does:
anonymous, each from its own loopback address (127.0.1.x), keeping the
session id the server issues, at most one message per ``--pace`` seconds.

Every reply is checked: HTTP 200, at least one message, the session id it
was sent for, and the topic of the question asked (each question's topic is
taken from a fresh conversation first; a follow-up such as "vertel meer"
must continue the previous topic). A reply is

- **answered**: the right topic;
- **apology**: the Dutch apology (``custom.reason`` ``storing:…``): the user
  was told, nothing is lost;
- **told**: a reply with the Dutch notice that the conversation could not be
  stored or fetched ("een vervolgvraag begrijp ik daardoor misschien niet"):
  the answer, or for a follow-up possibly not (the user has been told why);
- **lost**: anything else: an HTTP error, no reply, another session's reply,
  a wrong topic (crossed, out of order, or the conversation forgotten).

A follow-up right after an apology or a notice is not checked (the user was
told that the bot may not know what came before).

Faults, 15 s into a run: none (quiet); one Rasa replica killed (SIGKILL); one
action server killed; PostgreSQL stopped for 5 s; Redis stopped for 5 s; a
flood from one address (8 threads, as fast as they can) during the whole run,
where the others' p95 must stay within 2x the quiet run's. supervisord starts
killed processes again; before the next run every process must answer.

Writes ``reports/chaos.json`` and ``reports/chaos.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import requests

from faq.content import CONTENT_TOPIC_IDS
from faq.settings import PROJECT_DIR as ROOT
from tools.stack import RemoteStack, session_from

REPORTS = ROOT / "reports"

#: Self-contained questions; their topic is measured before the runs.
QUESTIONS: Tuple[str, ...] = (
    "hoe werken magnesium en vitamine d samen?",
    "wat doet vitamine d eigenlijk in je lichaam",
    "waarom heb ik magnesium nodig voor vitamine d?",
    "hoe lang moet ik in de zon voor vitamine d?",
    "welk eten bevat veel magnesium",
    "waarom d3 samen met k2 nemen?",
    "in welk eten zit vitamine d",
    "hoe merk ik dat ik een magnesiumtekort heb",
    "is een bloedtest voor magnesium betrouwbaar?",
    "wat zijn de risico's van een vitamine d tekort",
    "hallo",
    "dank je wel",
)
#: A follow-up that must continue the previous content topic.
FOLLOW_UP = "vertel meer"

ANSWERED, APOLOGY, TOLD, LOST = "answered", "apology", "told", "lost"
REQUEST_TIMEOUT = 40.0

#: Settings of the stack for these runs (README, "Chaos").
CHAOS_ENV = {
    "FAQ_RATE_PER_IP": "60",
    "FAQ_RATE_PER_CONVERSATION": "120",
    "FAQ_REPLY_TIMEOUT": "10",
    "STACK_NGINX_RATE": "2r/s",
    "STACK_NGINX_BURST": "30",
}


@dataclass
class Turn:
    """One message and how its reply was judged."""

    sent: float
    latency: float
    outcome: str
    detail: str = ""


@dataclass
class Run:
    """One scenario: every turn of every conversation."""

    name: str
    turns: List[Turn] = field(default_factory=list)
    fault_log: List[str] = field(default_factory=list)
    flood: Dict[str, int] = field(default_factory=dict)

    def summary(self) -> Dict[str, Any]:
        """Counts per outcome and the latency percentiles of the answered turns."""
        counts = {
            k: sum(t.outcome == k for t in self.turns)
            for k in (ANSWERED, APOLOGY, TOLD, LOST)
        }
        latencies = [t.latency for t in self.turns if t.outcome != LOST]
        p50, p95 = (
            np.percentile(latencies, [50, 95]).tolist() if latencies else (None, None)
        )
        return {
            "name": self.name,
            "turns": len(self.turns),
            **counts,
            "p50": p50,
            "p95": p95,
            "lost_details": [t.detail for t in self.turns if t.outcome == LOST][:10],
            "fault_log": self.fault_log,
            "flood": self.flood,
        }


def judge(
    response: Optional[requests.Response], session_id: Optional[str], expected: str
) -> Tuple[str, str, Optional[str], Optional[str]]:
    """Judges one reply.

    Returns:
        ``(outcome, detail, topic, session id)``.
    """
    if response is None:
        return LOST, "geen antwoord (verbinding/time-out)", None, session_id
    if response.status_code != 200:
        return LOST, f"HTTP {response.status_code}", None, session_id
    try:
        messages = response.json()
    except ValueError:
        return LOST, "geen JSON", None, session_id
    if not isinstance(messages, list) or not messages:
        return LOST, "leeg antwoord", None, session_id
    recipient = messages[0].get("recipient_id")
    if session_id is not None and recipient != session_id:
        return LOST, "antwoord voor een andere sessie", None, session_id
    reasons = [str((m.get("custom") or {}).get("reason") or "") for m in messages]
    topic = (messages[0].get("custom") or {}).get("topic")
    if any(r.startswith("storing:") and r != "storing:niet_bewaard" for r in reasons):
        return APOLOGY, reasons[0], None, recipient
    told = "storing:niet_bewaard" in reasons
    if expected and topic != expected and not told:
        return LOST, f"onderwerp {topic} i.p.v. {expected}", topic, recipient
    # With the notice the user knows the bot may have lost the thread.
    return (TOLD if told else ANSWERED), "", topic, recipient


def references(url: str) -> Dict[str, str]:
    """Each question's topic, asked once in a fresh conversation."""
    topics = {}
    with session_from("127.0.3.1") as session:
        for question in QUESTIONS:
            reply = session.post(
                f"{url}/webhooks/rest/webhook",
                json={"message": question},
                timeout=REQUEST_TIMEOUT,
            ).json()
            topics[question] = reply[0]["custom"]["topic"]
            time.sleep(1.1)  # stay under nginx's and the replicas' limits
    return topics


def conversation(
    url: str,
    user: int,
    turns: int,
    pace: float,
    reference: Dict[str, str],
    record: Callable[[Turn], None],
) -> None:
    """One user: ``turns`` messages, every other one a follow-up."""
    session_id: Optional[str] = None
    previous: Optional[str] = None  # topic a follow-up must continue
    with session_from(f"127.0.1.{user + 1}") as session:
        for k in range(turns):
            # A follow-up only after a content answer (not after a greeting
            # or the "bedoel je…?" fallback, which have nothing to continue).
            if k % 3 == 1 and previous in CONTENT_TOPIC_IDS:
                text, expected = FOLLOW_UP, previous or ""
            else:
                text = QUESTIONS[(user * 5 + k) % len(QUESTIONS)]
                expected = reference[text]
            body: Dict[str, Any] = {"message": text}
            headers = {}
            if session_id:
                body["sender"] = session_id
                # As the website's REST client does: the routing hint.
                headers["X-Session-Id"] = session_id
            started = time.monotonic()
            try:
                response: Optional[requests.Response] = session.post(
                    f"{url}/webhooks/rest/webhook",
                    json=body,
                    headers=headers,
                    timeout=REQUEST_TIMEOUT,
                )
            except requests.RequestException:
                response = None
            latency = time.monotonic() - started
            outcome, detail, topic, recipient = judge(response, session_id, expected)
            if outcome == LOST:
                detail += (
                    f" [127.0.1.{user + 1} turn {k} {time.strftime('%H:%M:%S')}"
                    f" {text!r}]"
                )
            session_id = session_id or recipient
            record(Turn(started, latency, outcome, detail))
            # After an apology or a notice a follow-up cannot be checked.
            previous = topic if outcome == ANSWERED else None
            time.sleep(max(0.0, pace - latency))


def flood(url: str, stop: threading.Event, counts: Dict[str, int]) -> None:
    """One address sending as fast as it can until ``stop``."""
    lock = threading.Lock()

    def hammer() -> None:
        with session_from("127.0.2.1") as session:
            while not stop.is_set():
                try:
                    status = session.post(
                        f"{url}/webhooks/rest/webhook",
                        json={"message": "hoi"},
                        timeout=REQUEST_TIMEOUT,
                    ).status_code
                except requests.RequestException:
                    status = 0
                with lock:
                    counts[str(status)] = counts.get(str(status), 0) + 1

    threads = [threading.Thread(target=hammer, daemon=True) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def run_scenario(
    stack: RemoteStack,
    name: str,
    fault: Optional[Callable[[Run], None]],
    args: argparse.Namespace,
    reference: Dict[str, str],
) -> Run:
    """Runs the conversations, with ``fault`` applied ``--fault-at`` s in."""
    run = Run(name)
    lock = threading.Lock()

    def record(turn: Turn) -> None:
        with lock:
            run.turns.append(turn)

    users = [
        threading.Thread(
            target=conversation,
            args=(stack.url, u, args.turns, args.pace, reference, record),
            daemon=True,
        )
        for u in range(args.users)
    ]
    stop_flood = threading.Event()
    flooder = None
    if name == "flood":
        flooder = threading.Thread(
            target=flood, args=(stack.url, stop_flood, run.flood), daemon=True
        )
        flooder.start()
    for thread in users:
        thread.start()
    if fault is not None:
        time.sleep(args.fault_at)
        fault(run)
    for thread in users:
        thread.join(timeout=args.turns * (args.pace + REQUEST_TIMEOUT))
    stop_flood.set()
    if flooder is not None:
        flooder.join(timeout=REQUEST_TIMEOUT + 5)
    return run


def kill(stack: RemoteStack, program: str) -> Callable[[Run], None]:
    """A fault: SIGKILL one program (supervisord starts it again)."""

    def apply(run: Run) -> None:
        pid = stack.pids()[program]
        os.kill(pid, 9)
        run.fault_log.append(f"{time.strftime('%H:%M:%S')} kill -9 {program} ({pid})")

    return apply


def down_for(stack: RemoteStack, program: str, seconds: float) -> Callable[[Run], None]:
    """A fault: stop one program, wait, start it again."""

    def apply(run: Run) -> None:
        run.fault_log.append(f"{time.strftime('%H:%M:%S')} stop {program}")
        stack.ctl("stop", program)
        time.sleep(seconds)
        stack.ctl("start", program)
        run.fault_log.append(f"{time.strftime('%H:%M:%S')} start {program}")

    return apply


def start_stack(env: Dict[str, str]) -> None:
    """``scripts/stack.sh up`` with the chaos settings (restarts what changed)."""
    subprocess.run(
        [str(ROOT / "scripts" / "stack.sh"), "up"],
        cwd=ROOT,
        env={**os.environ, **env},
        check=True,
        timeout=1200,
    )


def render(result: Dict[str, Any]) -> str:
    """The result as a markdown table plus one "lost: N" line per fault."""
    quiet_p95 = result["runs"][0]["p95"]
    lines = [
        "| fault | turns | answered | apology | told (not stored) | lost | p50 | p95 |",
        "|---|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for run in result["runs"]:
        lines.append(
            f"| {run['name']} | {run['turns']} | {run[ANSWERED]} | {run[APOLOGY]} |"
            f" {run[TOLD]} | **{run[LOST]}** | {_ms(run['p50'])} | {_ms(run['p95'])} |"
        )
    lines.append("")
    for run in result["runs"]:
        extra = ""
        if run["name"] == "flood" and quiet_p95 and run["p95"]:
            ratio = run["p95"] / quiet_p95
            extra = (
                f"; others' p95 {ratio:.2f}x quiet"
                f" ({'within' if ratio <= 2 else 'NOT within'} 2x);"
                f" flood statuses {run['flood']}"
            )
        detail = f" ({', '.join(run['lost_details'])})" if run["lost_details"] else ""
        lines.append(f"- {run['name']}: lost: {run[LOST]}{detail}{extra}")
    return "\n".join(lines)


def _ms(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{1000 * value:.0f} ms"


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point (``make chaos``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=32)
    parser.add_argument("--turns", type=int, default=50)
    parser.add_argument("--pace", type=float, default=1.25, help="s between sends")
    parser.add_argument("--fault-at", type=float, default=15.0)
    parser.add_argument(
        "--only", default="", help="comma-separated scenario names (default: all)"
    )
    parser.add_argument("--no-start", action="store_true", help="stack is running")
    parser.add_argument("--out", type=Path, default=REPORTS)
    args = parser.parse_args(argv)

    if not args.no_start:
        start_stack(CHAOS_ENV)
    stack = RemoteStack(os.environ.get("FAQ_STACK_URL") or "http://127.0.0.1:8088")
    stack.wait_healthy()
    started = dt.datetime.now().isoformat(timespec="seconds")
    load_before = os.getloadavg()
    reference = references(stack.url)
    scenarios: List[Tuple[str, Optional[Callable[[Run], None]]]] = [
        ("quiet", None),
        ("rasa replica killed", kill(stack, "rasa1")),
        ("action server killed", kill(stack, "actions1")),
        ("postgresql down 5 s", down_for(stack, "postgres", 5)),
        ("redis down 5 s", down_for(stack, "redis", 5)),
        ("flood", None),
    ]
    wanted = {s.strip() for s in args.only.split(",") if s.strip()}
    runs = []
    for name, fault in scenarios:
        if wanted and name not in wanted and name != "quiet":
            continue
        print(f"chaos: {name} ...", flush=True)
        stack.wait_healthy(timeout=600)
        run = run_scenario(stack, name, fault, args, reference)
        summary = run.summary()
        runs.append(summary)
        print(
            f"  {name}: {summary['turns']} turns, answered {summary[ANSWERED]},"
            f" apology {summary[APOLOGY]}, told {summary[TOLD]},"
            f" lost: {summary[LOST]}, p95 {_ms(summary['p95'])}",
            flush=True,
        )
    stack.wait_healthy(timeout=600)
    result = {
        "command": "make chaos",
        "started": started,
        "users": args.users,
        "turns": args.turns,
        "pace": args.pace,
        "settings": CHAOS_ENV,
        "loadavg_before": load_before,
        "loadavg_after": os.getloadavg(),
        "reference_topics": reference,
        "runs": runs,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "chaos.json").write_text(json.dumps(result, indent=2) + "\n")
    table = render(result)
    (args.out / "chaos.md").write_text(
        f"# make chaos, {started}\n\n{args.users} conversations x {args.turns} turns"
        f" through nginx per fault; load average before {load_before[0]:.2f}.\n\n"
        f"{table}\n",
        encoding="utf-8",
    )
    print()
    print(table)
    return 0 if all(r[LOST] == 0 for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
