"""The module-level ASGI app, for `uvicorn chatserver.asgi:app` and several workers.

Settings come from the environment, as for `chatserver serve`."""

from chatserver import lifeline, logs
from chatserver.app import create_app
from chatserver.config import Settings

# A worker of `chatserver serve --workers N` dies with the supervisor, also on `kill -9` of it,
# and takes its redaction worker along.
lifeline.die_with_multiprocessing_parent()
app = create_app(Settings.from_env())
# uvicorn installed the logging configuration in this worker; the libraries just imported may
# have attached handlers of their own.
logs.everything_through_the_filter()
