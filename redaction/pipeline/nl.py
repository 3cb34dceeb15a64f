"""The spaCy `nl` pipeline: a blank Dutch tokenizer plus a lookup lemmatizer, saved once.

Presidio's context words match lemmas, so the lemmatizer matters; a trained model may replace it.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from redaction.errors import RedactionError
from redaction.pipeline.cache import versioned

logger = logging.getLogger(__name__)

# Set to a trained Dutch spaCy package name (e.g. nl_core_news_md) or a folder to use it instead.
MODEL_ENV = "REDACTION_SPACY_MODEL"


def nl_pipeline_path() -> Path:
    """The folder of the blank-plus-lemmatizer pipeline, built if absent."""
    path = versioned("spacy-nl")
    if (path / "config.cfg").exists():
        return path
    _build(path)
    return path


def _build(path: Path) -> None:
    import spacy
    from spacy.lookups import load_lookups

    logger.info("building the spaCy nl pipeline")
    nlp = spacy.blank("nl")
    lemmatizer = nlp.add_pipe("lemmatizer", config={"mode": "lookup"})
    lemmatizer.lookups = load_lookups("nl", ["lemma_lookup"])  # type: ignore[attr-defined]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix="spacy-nl-", dir=path.parent))
    try:
        nlp.to_disk(tmp)
        if path.exists():
            shutil.rmtree(path)
        os.replace(tmp, path)
    except OSError as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if not (path / "config.cfg").exists():  # another process may have won the race
            raise RedactionError(f"cannot write the spaCy pipeline to {path}: {exc}") from exc


def configured_model() -> str | None:
    """The trained model named by the environment, when it is actually installed."""
    name = os.environ.get(MODEL_ENV)
    if not name:
        return None
    import spacy.util

    if spacy.util.is_package(name) or Path(name).exists():
        return name
    raise RedactionError(f"{MODEL_ENV}={name} is neither an installed spaCy package nor a folder")


def build_nlp_engine(model: str | None = None) -> Any:
    """A Presidio spaCy NLP engine for `nl`, loaded by path so Presidio never downloads."""
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    name = model or configured_model() or str(nl_pipeline_path())
    config = {
        "nlp_engine_name": "spacy",
        "models": [{"lang_code": "nl", "model_name": name}],
        "ner_model_configuration": {
            "model_to_presidio_entity_mapping": {
                "PER": "PERSON", "PERSON": "PERSON", "LOC": "LOCATION", "GPE": "LOCATION",
                "ORG": "ORGANIZATION",
            },
            "low_confidence_score_multiplier": 0.4,
            "low_score_entity_names": ["ORG"],
            "labels_to_ignore": ["MISC", "NORP", "DATE", "CARDINAL", "ORDINAL", "QUANTITY",
                                 "MONEY", "PERCENT", "TIME", "EVENT", "FAC", "LANGUAGE",
                                 "LAW", "PRODUCT", "WORK_OF_ART"],
        },
    }
    return NlpEngineProvider(nlp_configuration=config).create_engine()
