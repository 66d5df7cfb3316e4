"""Chooses the FallbackClassifier thresholds on a validation split of the training data.

The held-out test set is never used here. The training data is split 80/20
(stratified by intent, fixed seed); an NLU model with the project's own
``config.yml`` is trained on the 80 % and parses the 20 %. For each candidate
``threshold`` and ``ambiguity_threshold`` the script counts, on the validation
messages:

- accepted-correct: the top intent is right and the bot would answer it;
- wrong answer: a content topic is answered although another was meant
  (including out-of-scope messages answered with content);
- fallback: the bot says it is unsure and offers topics.

The chosen pair maximises ``correct - cost x wrong`` with ``--cost`` 2 (fixed
before looking at any result): for health content a confident wrong answer
is worse than an honest "not sure", which costs only a rephrasing or a click
on a suggested topic. Ties go to the larger ambiguity threshold.

Usage:
    python -m tools.tune_thresholds [--cost 2] [--seed 42]
    python -m tools.tune_thresholds --rows reports/thresholds.json  # re-choose only

Writes reports/thresholds.json and reports/thresholds.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Dict, List, Sequence, Tuple

from faq.settings import PROJECT_DIR as ROOT

sys.path.insert(0, str(ROOT))

from faq.content import CONTENT_TOPIC_IDS

THRESHOLDS = [round(0.2 + 0.05 * i, 2) for i in range(15)]  # 0.20 .. 0.90
AMBIGUITIES = [0.0, 0.05, 0.1, 0.15, 0.2]
CONTENT = set(CONTENT_TOPIC_IDS)


def split_training_data(seed: int, workdir: Path) -> Tuple[Path, List[Dict[str, Any]]]:
    """Splits data/nlu 80/20 by intent; returns the train file and validation set."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(ROOT / "data" / "nlu"))
    train, test = data.train_test_split(train_frac=0.8, random_seed=seed)
    train_file = workdir / "nlu_train.yml"
    train_file.write_text(train.nlu_as_yaml(), encoding="utf-8")
    validation = [
        {"text": m.get("text"), "intent": m.get("intent")} for m in test.intent_examples
    ]
    return train_file, validation


def train_nlu(train_file: Path, workdir: Path) -> Path:
    """Trains an NLU-only model with the project's config; returns the archive."""
    env = {
        **os.environ,
        "RASA_TELEMETRY_ENABLED": "false",
        "RASA_SPACY_MODEL": subprocess.check_output(
            [sys.executable, str(ROOT / "scripts" / "spacy_pipeline.py"), "which"],
            text=True,
        ).strip(),
    }
    subprocess.run(
        [
            str(ROOT / ".venv" / "bin" / "rasa"),
            "train",
            "nlu",
            "--config",
            str(ROOT / "config.yml"),
            "--nlu",
            str(train_file),
            "--out",
            str(workdir),
            "--fixed-model-name",
            "validation",
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    return workdir / "validation.tar.gz"


async def parse_all(model: Path, texts: Sequence[str]) -> List[List[Tuple[str, float]]]:
    """Returns the intent ranking (without nlu_fallback) of every text."""
    from rasa.core.agent import Agent

    agent = Agent.load(str(model))
    rankings = []
    for text in texts:
        result = await agent.parse_message(text)
        rankings.append(
            [
                (r["name"], float(r["confidence"]))
                for r in result.get("intent_ranking", [])
                if r["name"] != "nlu_fallback"
            ]
        )
    return rankings


def score(
    validation: Sequence[Dict[str, Any]],
    rankings: Sequence[List[Tuple[str, float]]],
    threshold: float,
    ambiguity: float,
) -> Dict[str, float]:
    """Counts correct, wrong and fallback answers for one threshold pair."""
    correct = wrong = fallback = 0
    for example, ranking in zip(validation, rankings, strict=True):
        top, confidence = ranking[0] if ranking else ("", 0.0)
        second = ranking[1][1] if len(ranking) > 1 else 0.0
        accepted = confidence >= threshold and confidence - second >= ambiguity
        if not accepted:
            fallback += 1
        elif top == example["intent"]:
            correct += 1
        elif top in CONTENT:
            wrong += 1
    total = len(validation) or 1
    return {
        "threshold": threshold,
        "ambiguity_threshold": ambiguity,
        "correct": correct / total,
        "wrong_content": wrong / total,
        "fallback": fallback / total,
    }


def choose(rows: Sequence[Dict[str, float]], cost: float) -> Dict[str, float]:
    """The row with the best ``correct - cost * wrong``; ties: larger ambiguity."""
    return max(
        rows,
        key=lambda r: (
            round(r["correct"] - cost * r["wrong_content"], 6),
            r["ambiguity_threshold"],
        ),
    )


def main() -> int:
    """Runs the split, training, parsing and sweep; prints and writes reports."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cost", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--rows", type=Path, help="re-choose from a saved report")
    args = parser.parse_args()

    started = time.monotonic()
    if args.rows:
        saved = json.loads(args.rows.read_text(encoding="utf-8"))
        rows, examples = saved["rows"], saved.get("validation_examples", 0)
    else:
        with tempfile.TemporaryDirectory(prefix="tune-") as tmp:
            workdir = Path(tmp)
            train_file, validation = split_training_data(args.seed, workdir)
            print(f"validatie: {len(validation)} voorbeelden (20 %), rest is training")
            model = train_nlu(train_file, workdir)
            rankings = asyncio.run(parse_all(model, [v["text"] for v in validation]))
        rows = [
            score(validation, rankings, t, a) for t in THRESHOLDS for a in AMBIGUITIES
        ]
        examples = len(validation)
    best = choose(rows, args.cost)
    command = "python -m tools.tune_thresholds " + " ".join(sys.argv[1:])
    lines = [
        "# FallbackClassifier thresholds, chosen on a validation split",
        "",
        f"Command: `{command.strip()}` (`make tune`), "
        f"{examples} validation messages (20 % of data/nlu, seed {args.seed}),"
        f" {time.monotonic() - started:.0f} s.",
        "",
        f"Rule: maximise correct - {args.cost:g} x wrong content answers.",
        "",
        "| threshold | ambiguity | correct | wrong content answer | fallback |",
        "|--:|--:|--:|--:|--:|",
    ]
    for row in rows:
        if row["ambiguity_threshold"] in (0.0, 0.1) or row is best:
            mark = " **<- chosen**" if row is best else ""
            lines.append(
                f"| {row['threshold']:.2f} | {row['ambiguity_threshold']:.2f} | "
                f"{row['correct']:.1%} | {row['wrong_content']:.1%} | "
                f"{row['fallback']:.1%}{mark} |"
            )
    report = "\n".join(lines) + "\n"
    print(report)
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "thresholds.md").write_text(report, encoding="utf-8")
    (reports / "thresholds.json").write_text(
        json.dumps(
            {"chosen": best, "validation_examples": examples, "rows": rows}, indent=2
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
