"""Custom actions of the magnesium & vitamine D FAQ assistant.

rasa-sdk imports every submodule of this package and registers each concrete
``Action`` subclass; abstract base classes are skipped.
"""
