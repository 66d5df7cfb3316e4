"""Compares intent-classifier options on the development set and by 5-fold CV.

Every option is treated the same way:

1. 5-fold stratified cross-validation of ``data/nlu`` (seed 42): out-of-fold
   rankings, then the fallback rule chosen by the project's one chooser
   (:func:`tools.tune_thresholds.choose_rule`, cost 2) on those rankings;
   reported: content messages answered correctly and with another content
   topic, all messages correct;
2. the development set ``tests/heldout/messages.yml`` (single messages):
   trained on all of ``data/nlu``, the same rule, the same figures (NLU only:
   no dialogue, no context);
3. training time on all data and the p95 of ranking one message.

The blind sets are never used here. Options ``diet`` (Rasa's DIETClassifier
with the project's former pipeline) trains through Rasa and takes minutes
per fold; it only runs when named.

Usage:
    python -m tools.nlu_experiments [--options ours,baseline,...] [--out reports]
    python -m tools.nlu_experiments --options diet   # slow: about 20 minutes

Writes ``reports/nlu_experiments.json`` and ``.md``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from sklearn.linear_model import LogisticRegression

from faq.content import CONTENT_TOPIC_IDS
from faq.settings import PROJECT_DIR as ROOT
from server.nlu.model import ModelSettings, TopicModel
from tools.baseline import load_training_data, make_pipeline, rankings_of
from tools.evaluate import HELDOUT, load_heldout
from tools.tune_thresholds import (
    FallbackRule,
    Ranking,
    choose_rule,
    classifier_settings,
    out_of_fold_rankings,
)

#: Trains on (texts, labels); returns a function that ranks texts.
Trainer = Callable[
    [Sequence[str], Sequence[str]], Callable[[Sequence[str]], List[Ranking]]
]


def ours(settings: ModelSettings) -> Trainer:
    """The project's model with these settings."""

    def train(texts: Sequence[str], labels: Sequence[str]):
        model = TopicModel(settings).fit(texts, labels)
        return lambda batch: [model.rank(t) for t in batch]

    return train


def no_cleaning(settings: ModelSettings) -> Trainer:
    """The model without noise removal, sentence weighting or dose rule."""

    def train(texts: Sequence[str], labels: Sequence[str]):
        model = TopicModel(settings).fit(texts, labels)

        def rank(batch: Sequence[str]) -> List[Ranking]:
            probs = model.predict_proba(list(batch))
            order = np.argsort(-probs, axis=1, kind="stable")
            return [
                [(model.classes[j], float(row[j])) for j in idx]
                for row, idx in zip(probs, order, strict=True)
            ]

        return rank

    return train


def baseline() -> Trainer:
    """TF-IDF + LinearSVC, decision scores as ranking (tools.baseline)."""

    def train(texts: Sequence[str], labels: Sequence[str]):
        pipeline = make_pipeline().fit(list(texts), list(labels))
        return lambda batch: rankings_of(pipeline, batch)

    return train


def logistic(c: float = 20.0) -> Trainer:
    """The same features with logistic regression (probabilities)."""

    def train(texts: Sequence[str], labels: Sequence[str]):
        model = TopicModel()
        features = model._features()
        matrix = features.fit_transform(list(texts))
        clf = LogisticRegression(C=c, max_iter=3000).fit(matrix, list(labels))
        classes = [str(x) for x in clf.classes_]

        def rank(batch: Sequence[str]) -> List[Ranking]:
            probs = clf.predict_proba(features.transform(list(batch)))
            order = np.argsort(-probs, axis=1, kind="stable")
            return [
                [(classes[j], float(row[j])) for j in idx]
                for row, idx in zip(probs, order, strict=True)
            ]

        return rank

    return train


def ensemble(settings: ModelSettings, c: float = 20.0) -> Trainer:
    """Average of the project's model and the logistic regression."""

    def train(texts: Sequence[str], labels: Sequence[str]):
        first = ours(settings)(texts, labels)
        second = logistic(c)(texts, labels)

        def rank(batch: Sequence[str]) -> List[Ranking]:
            out = []
            for a, b in zip(first(batch), second(batch), strict=True):
                scores = dict(a)
                for name, p in b:
                    scores[name] = (scores.get(name, 0.0) + p) / 2
                out.append(sorted(scores.items(), key=lambda item: -item[1]))
            return out

        return rank

    return train


def typo_augmented(settings: ModelSettings, seed: int = 7) -> Trainer:
    """The project's model trained on the data plus one typo copy of each."""

    def typo(text: str, rng: random.Random) -> str:
        words = text.split()
        long = [i for i, w in enumerate(words) if len(w) >= 5]
        if not long:
            return text
        i = rng.choice(long)
        w = list(words[i])
        j = rng.randrange(1, len(w) - 1)
        op = rng.choice(("swap", "drop", "double"))
        if op == "swap":
            w[j], w[j + 1 if j + 1 < len(w) else j - 1] = (
                w[j + 1 if j + 1 < len(w) else j - 1],
                w[j],
            )
        elif op == "drop":
            del w[j]
        else:
            w.insert(j, w[j])
        words[i] = "".join(w)
        return " ".join(words)

    def train(texts: Sequence[str], labels: Sequence[str]):
        rng = random.Random(seed)
        extra = [typo(t, rng) for t in texts]
        return ours(settings)([*texts, *extra], [*labels, *labels])

    return train


def diet() -> Trainer:
    """Rasa's DIETClassifier with the project's former pipeline (slow)."""
    config = ROOT / "tools" / "diet_config.yml"

    def train(texts: Sequence[str], labels: Sequence[str]):
        from rasa.core.agent import Agent
        from rasa.shared.nlu.training_data.message import Message
        from rasa.shared.nlu.training_data.training_data import TrainingData

        tmp = Path(tempfile.mkdtemp(prefix="diet-"))
        data = TrainingData(
            [
                Message(data={"text": t, "intent": i})
                for t, i in zip(texts, labels, strict=True)
            ]
        )
        (tmp / "nlu.yml").write_text(data.nlu_as_yaml(), encoding="utf-8")
        which = subprocess.check_output(
            [sys.executable, str(ROOT / "scripts" / "spacy_pipeline.py"), "which"],
            text=True,
        ).strip()
        subprocess.run(
            [
                str(ROOT / ".venv" / "bin" / "rasa"),
                "train",
                "nlu",
                "--config",
                str(config),
                "--nlu",
                str(tmp / "nlu.yml"),
                "--out",
                str(tmp),
                "--fixed-model-name",
                "diet",
            ],
            cwd=ROOT,
            env={
                **os.environ,
                "RASA_SPACY_MODEL": which,
                "RASA_TELEMETRY_ENABLED": "false",
            },
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        agent = Agent.load(str(tmp / "diet.tar.gz"))

        def rank(batch: Sequence[str]) -> List[Ranking]:
            async def parse_all() -> List[Ranking]:
                out = []
                for text in batch:
                    parsed = await agent.parse_message(text)
                    out.append(
                        [
                            (r["name"], float(r["confidence"]))
                            for r in parsed.get("intent_ranking") or []
                            if r["name"] != "nlu_fallback"
                        ]
                    )
                return out

            return asyncio.run(parse_all())

        return rank

    return train


def options() -> Dict[str, Tuple[str, Callable[[], Trainer]]]:
    """Every option: name -> (description, trainer factory)."""
    base = replace(
        ModelSettings(),
        **{
            k: v
            for k, v in classifier_settings().items()
            if k in ModelSettings.__dataclass_fields__
        },
    )
    return {
        "baseline": ("TF-IDF char_wb 2-5 + word 1-2, LinearSVC margins", baseline),
        "logreg": ("same features, logistic regression C=20", lambda: logistic()),
        "calibrated": (
            "same features, LinearSVC + sigmoid calibration; no cleaning,"
            " no sentence weighting, no dose rule",
            lambda: no_cleaning(base),
        ),
        "ours": (
            "calibrated + noise removal + question weight 0.5 + dose rule"
            " (config.yml)",
            lambda: ours(base),
        ),
        "ours_q0.3": (
            "ours, question weight 0.3",
            lambda: ours(replace(base, question_weight=0.3)),
        ),
        "ours_q0.7": (
            "ours, question weight 0.7",
            lambda: ours(replace(base, question_weight=0.7)),
        ),
        "ours_char1-5": (
            "ours, char n-grams 1-5",
            lambda: ours(replace(base, char_min=1)),
        ),
        "ours_char2-6": (
            "ours, char n-grams 2-6",
            lambda: ours(replace(base, char_max=6)),
        ),
        "ours_c0.5": ("ours, C=0.5", lambda: ours(replace(base, c=0.5))),
        "ours_typos": (
            "ours, trained with one typo copy of every example",
            lambda: typo_augmented(base),
        ),
        "ensemble_lr": ("mean of ours and logistic regression", lambda: ensemble(base)),
        "diet": (
            "DIET (1 transformer layer, 60 epochs) after spaCy, regex,"
            " lexical and count-vector featurizers: the former pipeline",
            diet,
        ),
    }


def figures(
    rankings: Sequence[Ranking], labels: Sequence[str], rule: FallbackRule
) -> Dict[str, float]:
    """Content correct, content answered with another topic, all correct."""
    content = [i for i, label in enumerate(labels) if label in CONTENT_TOPIC_IDS]
    answered = [rule.decide(r) for r in rankings]
    right = [a == label for a, label in zip(answered, labels, strict=True)]
    wrong = [
        a in CONTENT_TOPIC_IDS and a != label
        for a, label in zip(answered, labels, strict=True)
    ]
    return {
        "content_correct": float(np.mean([right[i] for i in content])),
        "content_wrong": float(np.mean([wrong[i] for i in content])),
        "all_correct": float(np.mean(right)),
        "top1_no_fallback": float(
            np.mean(
                [
                    bool(r) and r[0][0] == label
                    for r, label in zip(rankings, labels, strict=True)
                ]
            )
        ),
    }


def run_option(name: str, factory: Callable[[], Trainer]) -> Dict[str, object]:
    """Cross-validates one option, then measures it on the development set."""
    texts, labels = load_training_data()
    trainer = factory()

    def fit_predict(train_x, train_y, test_x):
        return trainer(train_x, train_y)(test_x)

    started = time.monotonic()
    oof, _ = out_of_fold_rankings(texts, labels, fit_predict)
    cv_seconds = time.monotonic() - started
    rule, _ = choose_rule(oof, labels)
    started = time.monotonic()
    rank = trainer(texts, labels)
    train_seconds = time.monotonic() - started
    singles, _ = load_heldout(HELDOUT)
    dev_texts = [t.text for t in singles]
    dev_labels = [t.expected for t in singles]
    times = []
    dev_rankings = []
    for text in dev_texts:
        t0 = time.perf_counter()
        dev_rankings.extend(rank([text]))
        times.append(time.perf_counter() - t0)
    return {
        "option": name,
        "rule": {"threshold": rule.threshold, "ambiguity": rule.ambiguity},
        "cv": figures(oof, labels, rule),
        "dev": figures(dev_rankings, dev_labels, rule),
        "train_seconds": train_seconds,
        "cv_seconds": cv_seconds,
        "rank_p95_ms": 1000 * float(np.percentile(times, 95)),
    }


def render(rows: Sequence[Dict[str, object]], descriptions: Dict[str, str]) -> str:
    """A markdown table of the results."""
    lines = [
        "| option | CV content correct | CV content wrong | CV all correct |"
        " dev content correct | dev content wrong | dev all correct |"
        " train s | rank p95 ms |",
        "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for r in rows:
        cv, dev = r["cv"], r["dev"]
        lines.append(
            f"| {r['option']} | {cv['content_correct']:.1%} |"
            f" {cv['content_wrong']:.1%} | {cv['all_correct']:.1%} |"
            f" {dev['content_correct']:.1%} | {dev['content_wrong']:.1%} |"
            f" {dev['all_correct']:.1%} | {r['train_seconds']:.1f} |"
            f" {r['rank_p95_ms']:.1f} |"
        )
    lines.append("")
    lines += [f"- `{r['option']}`: {descriptions[r['option']]}" for r in rows]
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Runs the named options and writes the report."""
    every = options()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--options",
        default=",".join(n for n in every if n != "diet"),
        help="comma-separated: " + ", ".join(every),
    )
    parser.add_argument("--out", type=Path, default=ROOT / "reports")
    args = parser.parse_args(argv)
    names = [n.strip() for n in args.options.split(",") if n.strip()]
    unknown = sorted(set(names) - set(every))
    if unknown:
        print(f"unknown option(s): {unknown}", file=sys.stderr)
        return 2
    rows = []
    for name in names:
        row = run_option(name, every[name][1])
        rows.append(row)
        print(render([row], {name: every[name][0]}).splitlines()[2], flush=True)
    table = render(rows, {n: every[n][0] for n in names})
    print(table)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "nlu_experiments.json").write_text(
        json.dumps(rows, indent=1), encoding="utf-8"
    )
    (args.out / "nlu_experiments.md").write_text(table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
