"""Chooses, and if needed builds, the Dutch spaCy pipeline that Rasa uses.

The client asked for ``nl_core_news_sm``. It is used whenever it is installed.
Its download host is not always reachable; then this script builds a pipeline of
our own, under its own name, from spaCy's Dutch language data and the lookup
lemmatizer tables in ``spacy-lookups-data``.

Usage:
    python scripts/spacy_pipeline.py ensure   # build the fallback if needed; 1 line
    python scripts/spacy_pipeline.py which    # print the model name or path for Rasa
    python scripts/spacy_pipeline.py explain  # print 1 line saying which one is used
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CLIENT_MODEL = "nl_core_news_sm"
OWN_NAME = "nl_faq_lookup"
OWN_PATH = ROOT / "build" / "spacy" / OWN_NAME


def client_model_installed() -> bool:
    """Returns whether the client's pipeline nl_core_news_sm can be imported."""
    return importlib.util.find_spec(CLIENT_MODEL) is not None


def build_own_pipeline(path: Path = OWN_PATH) -> Path:
    """Builds a blank Dutch pipeline with a lookup lemmatizer and saves it.

    Args:
        path: Folder to write the pipeline to (``nlp.to_disk``).

    Returns:
        The folder the pipeline was written to.
    """
    import spacy

    nlp = spacy.blank("nl")
    nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    nlp.initialize()  # loads nl_lemma_lookup from spacy-lookups-data
    nlp.meta["name"] = OWN_NAME.removeprefix("nl_")
    nlp.meta["version"] = "1.0.0"
    nlp.meta["description"] = (
        "Dutch tokenizer plus lookup lemmatizer (spaCy nl language data and "
        "spacy-lookups-data); used when nl_core_news_sm is not installed."
    )
    lemma = nlp("tekorten")[0].lemma_
    if lemma != "tekort":
        raise SystemExit(
            f"spaCy-pipeline: lookup-lemmatizer werkt niet ('tekorten' -> '{lemma}')"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    nlp.to_disk(path)
    return path


def which() -> str:
    """Returns the model Rasa's SpacyNLP should load: a package name or a path."""
    if client_model_installed():
        return CLIENT_MODEL
    return str(OWN_PATH.relative_to(ROOT))


def explain() -> str:
    """Returns one line that says which spaCy pipeline is used and why."""
    if client_model_installed():
        return f"spaCy: pipeline {CLIENT_MODEL} wordt gebruikt."
    return (
        f"spaCy: {CLIENT_MODEL} is niet beschikbaar (downloadhost onbereikbaar); "
        f"eigen pipeline '{OWN_NAME}' wordt gebruikt ({OWN_PATH.relative_to(ROOT)}: "
        "spaCy nl-taaldata + spacy-lookups-data)."
    )


def main(argv: list[str]) -> int:
    """Command-line entry point."""
    command = argv[1] if len(argv) > 1 else "which"
    if command == "ensure":
        if not client_model_installed() and not (OWN_PATH / "meta.json").exists():
            build_own_pipeline()
        print(explain())
    elif command == "which":
        print(which())
    elif command == "explain":
        print(explain())
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
