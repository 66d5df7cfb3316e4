"""Rasa 3.6 graph component: the assistant's intent classifier.

``server.nlu.components.FaqIntentClassifier`` in ``config.yml`` replaces
DIET: it trains in about a second on two cores instead of minutes, and on
this FAQ's data it is at least as accurate (``docs/nlu-experiments.md``). It
reads the message text itself (it needs no Rasa featurizer), cleans it of
noise, weighs question sentences, and sets ``intent`` and ``intent_ranking``
with calibrated confidences for the ``FallbackClassifier`` after it.

Registered with Rasa's ``DefaultV1Recipe`` as a trainable intent classifier;
the trained model is written to and read from Rasa's ``ModelStorage``, so it
travels inside ``models/faq.tar.gz``.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, fields
from pathlib import Path
from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.shared.nlu.constants import (
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from faq.content import CONTENT_TOPIC_IDS
from server.nlu.model import ModelError, ModelSettings, TopicModel

logger = logging.getLogger(__name__)

#: Intents listed in ``intent_ranking`` (the fallback's buttons need a few).
RANKING_LENGTH_KEY = "ranking_length"
#: The model's code: a trained model in Rasa's cache is reused only while
#: these files are unchanged (:meth:`FaqIntentClassifier.fingerprint_addon`).
CODE_DIR = Path(__file__).resolve().parent
#: Content topics the ranking always holds, after the first ``ranking_length``
#: intents: the staff lookup shows three, the fallback offers two.
MIN_CONTENT_TOPICS = 3


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True
)
class FaqIntentClassifier(GraphComponent, IntentClassifier):
    """Calibrated character/word n-gram intent classifier (see module doc)."""

    @staticmethod
    def get_default_config() -> Dict[Text, Any]:
        """Returns the default config: the model settings and the ranking length."""
        return {**asdict(ModelSettings()), RANKING_LENGTH_KEY: 10}

    @classmethod
    def fingerprint_addon(cls, config: Dict[Text, Any]) -> Optional[str]:
        """Returns a digest of the model's code for Rasa's training cache.

        Rasa keys a cached component on its config and training data only, so
        after a change to the features or rules in ``server/nlu`` it would
        reuse a model trained by the old code.
        """
        digest = hashlib.sha256()
        for path in sorted(CODE_DIR.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    @staticmethod
    def required_packages() -> List[Text]:
        """Python packages the component needs."""
        return ["sklearn", "skops"]

    def __init__(
        self,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        model: Optional[TopicModel] = None,
    ) -> None:
        """Creates the component.

        Args:
            config: The merged config (defaults plus ``config.yml``).
            model_storage: Where the trained model is written and read.
            resource: This component's resource in the model storage.
            model: A trained model (when loaded), else None.
        """
        self.config = {**self.get_default_config(), **config}
        names = {f.name for f in fields(ModelSettings)}
        self.settings = ModelSettings(
            **{k: v for k, v in self.config.items() if k in names}
        )
        self._model_storage = model_storage
        self._resource = resource
        self.model = model

    @classmethod
    def create(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "FaqIntentClassifier":
        """Creates an untrained component."""
        return cls(config, model_storage, resource)

    @classmethod
    def validate_config(cls, config: Dict[Text, Any]) -> None:
        """Rejects settings the model cannot use.

        Raises:
            ValueError: With the name of the bad setting.
        """
        merged = {**cls.get_default_config(), **config}
        if not 0 <= float(merged["question_weight"]) <= 1:
            raise ValueError("question_weight moet tussen 0 en 1 liggen")
        if merged["question_mix"] not in ("linear", "gated"):
            raise ValueError("question_mix moet 'linear' of 'gated' zijn")
        if not 1 <= int(merged["char_min"]) <= int(merged["char_max"]):
            raise ValueError("char_min/char_max: 1 <= char_min <= char_max")
        if float(merged["c"]) <= 0:
            raise ValueError("c moet groter dan 0 zijn")
        if not 0 < float(merged["dose_confidence"]) <= 1:
            raise ValueError("dose_confidence moet tussen 0 en 1 liggen")
        if int(merged["cross_char_max"]) not in (0, *range(3, 9)):
            raise ValueError("cross_char_max moet 0 (uit) of 3 tot en met 8 zijn")

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the model on the intent examples and persists it."""
        examples = [
            e for e in training_data.intent_examples if e.get(TEXT) and e.get(INTENT)
        ]
        if len({e.get(INTENT) for e in examples}) < 2:
            logger.warning("FaqIntentClassifier: te weinig intents, niet getraind")
            return self._resource
        self.model = TopicModel(self.settings).fit(
            [e.get(TEXT) for e in examples], [e.get(INTENT) for e in examples]
        )
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Writes the trained model into the model storage."""
        if self.model is None:
            return
        with self._model_storage.write_to(self._resource) as directory:
            self.model.save(directory)

    @classmethod
    def load(
        cls,
        config: Dict[Text, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> "FaqIntentClassifier":
        """Loads the trained model from the model storage.

        A model that was never trained (no intents) loads as an untrained
        component, which leaves messages without an intent, like Rasa's own
        classifiers do.
        """
        try:
            with model_storage.read_from(resource) as directory:
                model = TopicModel.load(directory)
        except (ValueError, ModelError) as error:
            logger.warning("FaqIntentClassifier: geen getraind model (%s)", error)
            model = None
        return cls(config, model_storage, resource, model)

    def process(self, messages: List[Message]) -> List[Message]:
        """Sets ``intent`` and ``intent_ranking`` on every message."""
        if self.model is None:
            return messages
        length = int(self.config[RANKING_LENGTH_KEY])
        for message in messages:
            text = message.get(TEXT)
            if not text:
                continue
            ranking = [
                {INTENT_NAME_KEY: name, PREDICTED_CONFIDENCE_KEY: confidence}
                for name, confidence in self.model.rank(text)
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(
                INTENT_RANKING_KEY,
                shortened(ranking, length) if length > 0 else ranking,
                add_to_output=True,
            )
        return messages


def shortened(ranking: List[Dict[Text, Any]], length: int) -> List[Dict[Text, Any]]:
    """Returns the first ``length`` intents, plus content topics up to three.

    A sure answer leaves the content topics far down the ranking ("hoe lang
    moet ik in de zon": two in the first ten); the staff lookup and the
    fallback's buttons still need the next best ones.
    """
    kept = ranking[:length]
    missing = MIN_CONTENT_TOPICS - sum(
        entry[INTENT_NAME_KEY] in CONTENT_TOPIC_IDS for entry in kept
    )
    extra = [e for e in ranking[length:] if e[INTENT_NAME_KEY] in CONTENT_TOPIC_IDS]
    return kept + extra[: max(0, missing)]
