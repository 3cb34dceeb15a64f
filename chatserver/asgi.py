"""The module-level ASGI app, for `uvicorn chatserver.asgi:app` and several workers.

Settings come from the environment, as for `chatserver serve`."""

from chatserver.app import create_app
from chatserver.config import Settings

app = create_app(Settings.from_env())
