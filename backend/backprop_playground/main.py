"""App factory and the ``backprop-playground`` console entry point."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles

from . import __version__
from .api import errors, routes, ws
from .api.guards import AddressBuckets, RequestGuard
from .api.transport import ServedWebSocketProtocol
from .live.channels import Backend, LocalBackend
from .live.monitor import LagMonitor
from .live.registry import SessionRegistry
from .settings import Settings

logger = logging.getLogger(__name__)


def frontend_directory() -> Path:
    """The static page: shipped inside the package, or the repository's ``frontend/``."""
    packaged = Path(__file__).parent / "frontend"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "frontend"


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Before the app serves: the saved sessions come back. While it serves: the
    idle-session reaper, the lag monitor and the saving of changed sessions; then the
    registry closes (sessions saved, trainer threads, store, delivery backend)."""
    registry: SessionRegistry = app.state.registry
    restored = await registry.restore_saved()
    if restored:
        logger.info("%d saved sessions restored", restored)
    tasks = [asyncio.create_task(registry.reap_idle()),
             asyncio.create_task(app.state.lag.run()),
             asyncio.create_task(registry.keep_saving())]
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await app.state.registry.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Wire the registry, the API routes, the WebSocket endpoint and the static page."""
    settings = settings or Settings()
    app = FastAPI(title="Backprop Playground", version=__version__, lifespan=lifespan)
    app.state.settings = settings
    app.state.registry = SessionRegistry(settings, delivery_backend(settings))
    app.state.lag = LagMonitor()
    app.state.pending_commands = Counter()  # client address -> commands in progress
    app.state.lookups = AddressBuckets(settings.join_lookups_per_second,
                                       settings.join_lookup_burst)
    errors.install(app)
    app.include_router(routes.router)
    app.include_router(ws.router)
    app.add_middleware(RequestGuard, settings=settings)

    @app.get("/join/{code:path}", include_in_schema=False)
    def join_page(code: str) -> FileResponse:
        """The page, opened as a viewer of the class with this code. Any path under /join/
        (a code with a slash, one that opens no class) gets the page, which says so."""
        return FileResponse(frontend_directory() / "index.html")

    app.mount("/", StaticFiles(directory=frontend_directory(), html=True), name="frontend")
    return app


def delivery_backend(settings: Settings) -> Backend:
    """Redis pub/sub with ``BACKPROP_REDIS_URL`` (viewers on any process), else this process."""
    if not settings.redis_url:
        return LocalBackend()
    from .live.redis_channel import RedisBackend  # Redis is needed only for scale-out

    return RedisBackend(settings.redis_url, settings.max_answers_per_second)


def run(argv: list[str] | None = None) -> None:
    """Start uvicorn serving the page and the API (127.0.0.1:8000 unless told otherwise)."""
    settings = Settings()
    parser = argparse.ArgumentParser(prog="backprop-playground", description=__doc__)
    parser.add_argument("--host", default=settings.host, help=f"default {settings.host}")
    parser.add_argument("--port", type=int, default=settings.port, help=f"default {settings.port}")
    args = parser.parse_args(argv)
    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    uvicorn.run(create_app(settings), **uvicorn_options(settings))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """How uvicorn serves the app. Frames are deflated once by their session (wire/frame.py);
    per-message deflate would compress each frame again once per client: it is off. Small
    send buffers keep a slow client's frames fresh (live/send_buffers.py), and a stalled
    client's connection is dropped at the transport (api/transport.py)."""
    return {"host": settings.host, "port": settings.port, "log_level": settings.log_level,
            "ws_max_size": settings.max_message_bytes, "ws_per_message_deflate": False,
            "ws": ServedWebSocketProtocol}


if __name__ == "__main__":
    run()
