"""HTTP API of the privacy operations: requests of data subjects, research export, audit log,
statistics (coordinator and up)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from chatserver.web.api import Api


def routes(api: Api) -> list[BaseRoute]:
    return []
