"""The pages: the widget for young people, the staff console, their static files.

Third-party browser code comes from static/node_modules, only the files static/vendor.json names."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import Scope

from chatserver.web.responses import error

STATIC = Path(__file__).resolve().parent.parent.parent / "static"


class _Static(StaticFiles):
    """static/ without its node_modules and npm files."""

    async def get_response(self, path: str, scope: Scope) -> Response:
        first = path.replace("\\", "/").lstrip("/").split("/", 1)[0]
        if first == "node_modules" or first.startswith(("package", ".")):
            return error("not_found", "Deze pagina bestaat niet.")
        return await super().get_response(path, scope)


def _page(relative: str) -> Route:
    async def page(request: Request) -> Response:
        path = STATIC / relative
        if not path.is_file():
            return error("not_found", "Deze pagina is niet geïnstalleerd.")
        return FileResponse(path, headers={"Cache-Control": "no-store"})

    return Route("/" if relative.startswith("widget") else "/" + relative.split("/")[0],
                 page, methods=["GET"])


def routes(static: Path = STATIC) -> list[BaseRoute]:
    vendor_file = static / "vendor.json"
    vendor: dict[str, str] = {}
    if vendor_file.is_file():
        vendor = json.loads(vendor_file.read_text(encoding="utf-8"))

    async def vendored(request: Request) -> Response:
        relative = vendor.get(request.path_params["name"])
        path = (static / relative).resolve() if relative else None
        if path is None or not path.is_file() or static.resolve() not in path.parents:
            return error("not_found", "Dit bestand bestaat niet.")
        return FileResponse(path, headers={"Cache-Control": "public, max-age=3600"})

    result: list[BaseRoute] = [
        _page("widget/index.html"),
        _page("console/index.html"),
        _page("coordinator/index.html"),
        _page("wissen/index.html"),
        Route("/vendor/{name}", vendored, methods=["GET"]),
    ]
    if static.is_dir():
        result.append(Mount("/static", app=_Static(directory=static), name="static"))
    return result
