"""The assistant's own NLU: noise removal, sentence weighting, intent model.

- :mod:`server.nlu.text`: cleaning and sentence splitting (pure functions);
- :mod:`server.nlu.model`: the calibrated n-gram intent model (scikit-learn);
- :mod:`server.nlu.components`: the Rasa graph component that ``config.yml``
  names (``server.nlu.components.FaqIntentClassifier``).
"""
