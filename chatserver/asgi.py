"""The module-level ASGI app, for `uvicorn chatserver.asgi:app` and several workers.

Settings come from the environment, as for `chatserver serve`. Keys in the data directory
are used only by the workers of `chatserver serve --workers N`, which decided that from its
`--host` and `--dev` (config.SERVE_SECRETS_FROM_DATA_DIR). Run by uvicorn or gunicorn
directly, this module cannot know which address is served: the keys must come from the
environment."""

import os
import sys

from chatserver import lifeline, logs
from chatserver.app import create_app
from chatserver.config import SERVE_SECRETS_FROM_DATA_DIR, Settings
from chatserver.errors import ConfigError

# A worker of `chatserver serve --workers N` dies with the supervisor, also on `kill -9` of it,
# and takes its redaction worker along.
lifeline.die_with_multiprocessing_parent()
try:
    _settings = Settings.from_env(
        secrets_from_data_dir=os.environ.get(SERVE_SECRETS_FROM_DATA_DIR) == "1")
except ConfigError as exc:  # said plainly, as `chatserver serve` says it: no stack trace
    print(f"chatserver: configuration error: {exc}", file=sys.stderr, flush=True)
    raise SystemExit(2) from None
app = create_app(_settings)
# uvicorn installed the logging configuration in this worker; the libraries just imported may
# have attached handlers of their own.
logs.everything_through_the_filter()
