"""Chooses the fallback rule from cross-validated predictions of the training data.

The fallback rule is the FallbackClassifier's: answer the top intent unless
its score is below ``threshold`` or the top two are closer than
``ambiguity``; then say "not sure" and offer topics. This module is the ONE
chooser of that rule, for the bot (``make tune`` -> ``config.yml``) and for
the TF-IDF + LinearSVC baseline (``tools.baseline``), on the same data with
the same cost:

1. ``data/nlu`` is split into 5 stratified folds; each fold is predicted
   by a model trained on the other four (out-of-fold rankings). This is
   repeated with five shuffle seeds (42-46) and the rule is chosen on all
   five sets of rankings together: with one seed the chosen threshold
   moved between 0.39 and 0.52 from seed to seed, at utilities within 0.1
   point of each other, so one split's noise decided it. The test sets
   (``tests/heldout``, ``tests/blind``) are never used.
2. Candidate thresholds are quantiles (0-60 %) of the system's own top
   scores and candidate ambiguities quantiles (0-40 %) of its top-two gaps,
   so the same grid fits calibrated confidences and SVM margins alike. The
   smallest ambiguity is ``MIN_AMBIGUITY`` (0.0001), not 0: a tie is never
   answered (the bot's model ties a topic its second opinion disputes).
3. The rule maximises ``correct - COST x wrong``: correct = the top intent
   is the expected one and accepted; wrong = an accepted CONTENT topic that
   was not expected (also for off-domain or personal-advice messages); a
   fallback scores 0. ``COST`` is 2, fixed before looking at any result: for
   health content a confident wrong answer is worse than an honest "not
   sure". Ties go to the lower threshold, then the lower ambiguity.

For the bot, the rankings come from :class:`server.nlu.model.TopicModel`
with the settings of ``config.yml`` (the same code the Rasa component runs,
trained in-process: five folds take seconds).

Usage:
    python -m tools.tune_thresholds            # print the choice (make tune)
    python -m tools.tune_thresholds --write    # also put it into config.yml

Writes reports/thresholds.json and reports/thresholds.md.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import yaml
from sklearn.model_selection import StratifiedKFold

from faq.content import CONTENT_TOPIC_IDS
from faq.settings import PROJECT_DIR as ROOT

CONFIG = ROOT / "config.yml"
#: A wrong content answer costs this many correct ones (fixed in advance).
COST = 2.0
FOLDS = 5
SEED = 42
#: The shuffle seeds of the repeated cross-validation the rule is chosen on.
SEEDS = (42, 43, 44, 45, 46)
THRESHOLD_QUANTILES = np.linspace(0.0, 0.6, 61)
AMBIGUITY_QUANTILES = np.linspace(0.0, 0.4, 41)
#: The smallest ambiguity: two topics with the same score are always too
#: close to call (the bot ties a topic its second opinion disputes).
MIN_AMBIGUITY = 0.0001
CLASSIFIER_NAME = "server.nlu.components.FaqIntentClassifier"
CONTENT = frozenset(CONTENT_TOPIC_IDS)

#: One ranking: (intent, score) pairs, best first.
Ranking = List[Tuple[str, float]]
#: Trains on (texts, labels) and returns the rankings of other texts.
FitPredict = Callable[[Sequence[str], Sequence[str], Sequence[str]], List[Ranking]]


@dataclass(frozen=True)
class FallbackRule:
    """Answer the top intent unless it is too unsure or too close to call."""

    threshold: float
    ambiguity: float

    def accepts(self, ranking: Ranking) -> bool:
        """Returns whether the top intent of a ranking is answered."""
        if not ranking:
            return False
        top = ranking[0][1]
        second = ranking[1][1] if len(ranking) > 1 else float("-inf")
        return top >= self.threshold and top - second >= self.ambiguity

    def decide(self, ranking: Ranking) -> Optional[str]:
        """Returns the answered intent, or None for a fallback."""
        return ranking[0][0] if self.accepts(ranking) else None


def outcome_counts(
    rankings: Sequence[Ranking], expected: Sequence[str], rule: FallbackRule
) -> Dict[str, float]:
    """Returns the correct / wrong-content / fallback rates under a rule."""
    correct = wrong = fallback = 0
    for ranking, label in zip(rankings, expected, strict=True):
        answered = rule.decide(ranking)
        if answered is None:
            fallback += 1
        elif answered == label:
            correct += 1
        elif answered in CONTENT:
            wrong += 1
    total = len(expected) or 1
    return {
        "correct": correct / total,
        "wrong_content": wrong / total,
        "fallback": fallback / total,
    }


def choose_rule(
    rankings: Sequence[Ranking], expected: Sequence[str], cost: float = COST
) -> Tuple[FallbackRule, List[Dict[str, float]]]:
    """Chooses the rule that maximises ``correct - cost x wrong``.

    Args:
        rankings: Out-of-fold rankings of the validation messages.
        expected: Their intents.
        cost: What a wrong content answer costs in correct answers.

    Returns:
        The chosen rule and every candidate's rates (for the report).
    """
    tops = np.array([r[0][1] for r in rankings], dtype=float)
    gaps = np.array(
        [r[0][1] - r[1][1] if len(r) > 1 else np.inf for r in rankings], dtype=float
    )
    finite_gaps = gaps[np.isfinite(gaps)]
    thresholds = sorted(
        {float("-inf")}
        | {round(float(q), 4) for q in np.quantile(tops, THRESHOLD_QUANTILES)}
    )
    ambiguities = sorted(
        {MIN_AMBIGUITY}
        | {
            round(float(q), 4)
            for q in np.quantile(finite_gaps, AMBIGUITY_QUANTILES)
            if q > 0
        }
    )
    answered = [r[0][0] if r else "" for r in rankings]
    right = np.array([a == e for a, e in zip(answered, expected, strict=True)])
    wrong = np.array(
        [a in CONTENT and a != e for a, e in zip(answered, expected, strict=True)]
    )
    total = max(len(expected), 1)
    candidates = []
    best: Optional[Tuple[float, FallbackRule]] = None
    for threshold in thresholds:
        for ambiguity in ambiguities:
            rule = FallbackRule(threshold, ambiguity)
            kept = (tops >= threshold) & (gaps >= ambiguity)
            rates = {
                "correct": float((right & kept).sum()) / total,
                "wrong_content": float((wrong & kept).sum()) / total,
                "fallback": float((~kept).sum()) / total,
            }
            utility = round(rates["correct"] - cost * rates["wrong_content"], 9)
            candidates.append({**asdict(rule), **rates, "utility": utility})
            if best is None or utility > best[0]:
                best = (utility, rule)
    assert best is not None
    return best[1], candidates


def out_of_fold_rankings(
    texts: Sequence[str],
    labels: Sequence[str],
    fit_predict: FitPredict,
    folds: int = FOLDS,
    seed: int = SEED,
) -> Tuple[List[Ranking], List[int]]:
    """Predicts every example with a model trained on the other folds.

    Args:
        texts: All training texts.
        labels: Their intents.
        fit_predict: Trains on the given fold and ranks the held-out texts.
        folds: Number of stratified folds.
        seed: Shuffle seed of the folds.

    Returns:
        One ranking per text (in input order) and the fold of each text.
    """
    y = np.asarray(list(labels))
    rankings: List[Optional[Ranking]] = [None] * len(texts)
    fold_of = [0] * len(texts)
    splitter = StratifiedKFold(folds, shuffle=True, random_state=seed)
    for fold, (train, test) in enumerate(splitter.split(np.zeros(len(y)), y)):
        predicted = fit_predict(
            [texts[i] for i in train],
            [str(y[i]) for i in train],
            [texts[i] for i in test],
        )
        for index, ranking in zip(test, predicted, strict=True):
            rankings[index] = ranking
            fold_of[index] = fold
    return [r or [] for r in rankings], fold_of


def repeated_out_of_fold_rankings(
    texts: Sequence[str],
    labels: Sequence[str],
    fit_predict: FitPredict,
    seeds: Sequence[int] = SEEDS,
) -> Tuple[List[Ranking], List[str]]:
    """Out-of-fold rankings of every example, once per shuffle seed.

    Args:
        texts: All training texts.
        labels: Their intents.
        fit_predict: Trains on the given fold and ranks the held-out texts.
        seeds: The shuffle seeds; each gives one full set of rankings.

    Returns:
        The rankings of all seeds one after the other, and the matching labels.
    """
    rankings: List[Ranking] = []
    expected: List[str] = []
    for seed in seeds:
        rankings += out_of_fold_rankings(texts, labels, fit_predict, seed=seed)[0]
        expected += list(labels)
    return rankings, expected


# ------------------------------------------------------------------ the bot


def classifier_settings(config: Path = CONFIG) -> Dict[str, Any]:
    """Returns the intent classifier's settings from ``config.yml``."""
    from server.nlu.model import ModelSettings

    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for component in data.get("pipeline") or []:
        if component.get("name") == CLASSIFIER_NAME:
            merged = {**asdict(ModelSettings()), **component}
            merged.pop("name")
            return merged
    raise SystemExit(f"{config}: geen {CLASSIFIER_NAME} in de pipeline")


def configured_rule(config: Path = CONFIG) -> FallbackRule:
    """Returns the FallbackClassifier rule that ``config.yml`` sets."""
    data = yaml.safe_load(config.read_text(encoding="utf-8")) or {}
    for component in data.get("pipeline") or []:
        if component.get("name") == "FallbackClassifier":
            return FallbackRule(
                float(component.get("threshold", 0.3)),
                float(component.get("ambiguity_threshold", 0.1)),
            )
    return FallbackRule(float("-inf"), 0.0)


def bot_fit_predict(config: Path = CONFIG) -> FitPredict:
    """Returns fit-and-rank with the bot's model and ``config.yml`` settings."""
    from dataclasses import fields

    from server.nlu.model import ModelSettings, TopicModel

    names = {f.name for f in fields(ModelSettings)}
    settings = ModelSettings(
        **{k: v for k, v in classifier_settings(config).items() if k in names}
    )

    def fit_predict(
        train_texts: Sequence[str], train_labels: Sequence[str], texts: Sequence[str]
    ) -> List[Ranking]:
        model = TopicModel(settings).fit(train_texts, train_labels)
        return [model.rank(text) for text in texts]

    return fit_predict


def write_rule(rule: FallbackRule, config: Path = CONFIG) -> None:
    """Puts the rule into the FallbackClassifier entry of ``config.yml``.

    Only the two numbers change; comments and layout stay as they are.
    """
    text = config.read_text(encoding="utf-8")
    pattern = re.compile(
        r"(- name: FallbackClassifier\s*\n\s*threshold:\s*)[-\d.e]+"
        r"(\s*\n\s*ambiguity_threshold:\s*)[-\d.e]+"
    )
    threshold = max(rule.threshold, 0.0)  # -inf: every confidence passes
    new, count = pattern.subn(rf"\g<1>{threshold:.4f}\g<2>{rule.ambiguity:.4f}", text)
    if count != 1:
        raise SystemExit(f"{config}: FallbackClassifier-regels niet gevonden")
    config.write_text(new, encoding="utf-8")


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Cross-validates the bot's model, chooses the rule, prints and writes it."""
    from tools.baseline import load_training_data

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cost", type=float, default=COST)
    parser.add_argument("--write", action="store_true", help="update config.yml")
    args = parser.parse_args(argv)

    started = time.monotonic()
    texts, labels = load_training_data()
    rankings, labels = repeated_out_of_fold_rankings(texts, labels, bot_fit_predict())
    chosen, candidates = choose_rule(rankings, labels, args.cost)
    current = configured_rule()
    rows = {
        "chosen": outcome_counts(rankings, labels, chosen),
        "config.yml now": outcome_counts(rankings, labels, current),
        "no fallback": outcome_counts(rankings, labels, FallbackRule(-np.inf, 0.0)),
    }
    lines = [
        "# Fallback rule, chosen on cross-validated predictions of data/nlu",
        "",
        f"Command: `python -m tools.tune_thresholds` (`make tune`): {FOLDS}-fold"
        f" stratified CV repeated with seeds {SEEDS[0]}-{SEEDS[-1]} of"
        f" {len(texts)} training examples,"
        f" rule maximises correct - {args.cost:g} x wrong content answers;"
        f" {time.monotonic() - started:.0f} s.",
        "",
        "| rule | threshold | ambiguity | correct | wrong content answer | fallback |",
        "|---|--:|--:|--:|--:|--:|",
    ]
    for name, rule in (
        ("chosen", chosen),
        ("config.yml now", current),
        ("no fallback", FallbackRule(-np.inf, 0.0)),
    ):
        r = rows[name]
        lines.append(
            f"| {name} | {rule.threshold:.4f} | {rule.ambiguity:.4f} |"
            f" {r['correct']:.1%} | {r['wrong_content']:.1%} | {r['fallback']:.1%} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    reports = ROOT / "reports"
    reports.mkdir(exist_ok=True)
    (reports / "thresholds.md").write_text(report, encoding="utf-8")
    (reports / "thresholds.json").write_text(
        json.dumps(
            {
                "chosen": asdict(chosen),
                "config": asdict(current),
                "cost": args.cost,
                "examples": len(texts),
                "candidates": candidates,
            },
            indent=1,
        ),
        encoding="utf-8",
    )
    if args.write:
        write_rule(chosen)
        print(
            f"config.yml: threshold {chosen.threshold:.4f},"
            f" ambiguity_threshold {chosen.ambiguity:.4f}"
        )
    elif chosen != current:
        print("config.yml wijkt af: `python -m tools.tune_thresholds --write`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
