"""How far two readers agree on what each conversation turn asks (make agreement).

The writer of a development set labelled every turn of its conversations. A
second reader, who saw only the article, ``shared/topics.md`` and the turn
texts (not the labels), labelled the same turns again
(``tests/heldout/second_reading.yml``). This prints, for first and later
turns, how often the two readings agree and, from the development-set errors
of the last ``make eval`` (``reports/eval_errors.tsv``), how often the bot
matches the writer, the second reader, or either of them.

It answers one question about the multi-turn bar: is a follow-up's topic a
matter of taste (then two readers disagree about as often as the bot misses),
or does the bot read turns differently from people who agree?

Usage:
    python -m tools.agreement [--errors reports/eval_errors.tsv]
"""

from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from tools.evaluate import HELDOUT_DIR, REPORTS, SETS, is_correct, load_heldout

SECOND_READING = HELDOUT_DIR / "second_reading.yml"
ERRORS = REPORTS / "eval_errors.tsv"
#: (set name, conversation name, turn number from 1) -> topic
Key = Tuple[str, str, int]


@dataclass(frozen=True)
class Reading:
    """One turn as the writer and the second reader labelled it."""

    key: Key
    text: str
    writer: str
    second: str


def load_readings(path: Path = SECOND_READING) -> List[Reading]:
    """Pairs the second reading with the writers' labels, turn by turn.

    Raises:
        ValueError: A set, conversation or turn text of the second reading
            does not match its development set (naming the set and case).
    """
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    paths = {s.name: s.path for s in SETS if not s.blind}
    readings: List[Reading] = []
    for block in data.get("readings") or []:
        name = str(block["set"])
        if name not in paths:
            raise ValueError(f"{path}: unknown development set {name!r}")
        cases = {c.name: c for c in load_heldout(paths[name])[1]}
        for conversation in block["multi_turn"]:
            case = cases.get(str(conversation["name"]))
            turns = conversation["turns"]
            if case is None or [t["text"] for t in turns] != [
                t.text for t in case.turns
            ]:
                raise ValueError(
                    f"{path}: {name}/{conversation['name']} does not match"
                    f" {paths[name].name}"
                )
            readings += [
                Reading((name, case.name, i + 1), t.text, t.expected, str(s["topic"]))
                for i, (t, s) in enumerate(zip(case.turns, turns, strict=True))
            ]
    return readings


def load_bot_answers(path: Path) -> Dict[Key, str]:
    """Returns the bot's answer for every multi-turn turn it got wrong.

    ``make eval`` lists only the development sets' misses; every other turn
    was answered with the writer's topic.
    """
    with path.open(encoding="utf-8") as handle:
        return {
            (row["set"], row["case"], int(row["turn"])): row["bot"]
            for row in csv.DictReader(handle, delimiter="\t")
            if row["style"] == "multi_turn"
        }


def agreement(
    readings: Sequence[Reading], bot: Optional[Dict[Key, str]] = None
) -> Dict[str, Dict[str, float]]:
    """Returns the rates per group (``first``, ``later``, ``all`` turns).

    Each group has ``turns`` and ``readers agree``; with the bot's misses
    also ``bot = writer``, ``bot = second reader`` and ``bot = either``.
    """
    groups: Dict[str, List[Reading]] = {
        "first": [r for r in readings if r.key[2] == 1],
        "later": [r for r in readings if r.key[2] > 1],
        "all": list(readings),
    }
    result: Dict[str, Dict[str, float]] = {}
    for group, items in groups.items():
        if not items:
            continue
        n = len(items)
        rates = {
            "turns": float(n),
            "readers agree": sum(
                is_correct(r.writer, r.second) or is_correct(r.second, r.writer)
                for r in items
            )
            / n,
        }
        if bot is not None:
            answers = [bot.get(r.key, r.writer) for r in items]
            writer = [
                is_correct(r.writer, a) for r, a in zip(items, answers, strict=True)
            ]
            second = [
                is_correct(r.second, a) for r, a in zip(items, answers, strict=True)
            ]
            rates["bot = writer"] = sum(writer) / n
            rates["bot = second reader"] = sum(second) / n
            rates["bot = either"] = (
                sum(w or s for w, s in zip(writer, second, strict=True)) / n
            )
        result[group] = rates
    return result


def render(result: Dict[str, Dict[str, float]]) -> str:
    """Returns the rates as a plain-text table."""
    columns = list(next(iter(result.values())))
    lines = ["group  " + "  ".join(f"{c:>20}" for c in columns)]
    for group, rates in result.items():
        cells = [
            f"{int(v):>20}" if c == "turns" else f"{100 * v:>19.1f}%"
            for c, v in rates.items()
        ]
        lines.append(f"{group:<6} " + "  ".join(cells))
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command line entry point (``make agreement``)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", type=Path, default=ERRORS)
    args = parser.parse_args(argv)
    readings = load_readings()
    bot = load_bot_answers(args.errors) if args.errors.exists() else None
    sets = sorted({r.key[0] for r in readings})
    print(f"second reading of {', '.join(sets)}: {len(readings)} turns")
    if bot is None:
        print(f"(no {args.errors}: run `make eval` for the bot's columns)")
    print(render(agreement(readings, bot)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
