"""How the spaCy `nl` pipeline under the redactor is built, cached and loaded.

No trained Dutch model is needed; one is used when configured and installed.
"""

from redaction.pipeline.cache import cache_dir
from redaction.pipeline.nl import build_nlp_engine, nl_pipeline_path

__all__ = ["build_nlp_engine", "cache_dir", "nl_pipeline_path"]
