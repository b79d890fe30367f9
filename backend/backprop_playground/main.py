"""App factory and the ``backprop-playground`` console entry point."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from . import __version__
from .settings import Settings


def frontend_directory() -> Path:
    """The static page: shipped inside the package, or the repository's ``frontend/``."""
    packaged = Path(__file__).parent / "frontend"
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parents[2] / "frontend"


def create_app(settings: Settings | None = None) -> FastAPI:
    """Wire the API routes and the static page."""
    settings = settings or Settings()
    app = FastAPI(title="Backprop Playground", version=__version__)
    app.state.settings = settings

    @app.get("/api/health")
    def health() -> dict[str, str]:
        """Liveness: the server answers."""
        return {"status": "ok", "version": __version__}

    app.mount("/", StaticFiles(directory=frontend_directory(), html=True), name="frontend")
    return app


def run(argv: list[str] | None = None) -> None:
    """Start uvicorn serving the page and the API (127.0.0.1:8000 unless told otherwise)."""
    settings = Settings()
    parser = argparse.ArgumentParser(prog="backprop-playground", description=__doc__)
    parser.add_argument("--host", default=settings.host, help=f"default {settings.host}")
    parser.add_argument("--port", type=int, default=settings.port, help=f"default {settings.port}")
    args = parser.parse_args(argv)
    settings = settings.model_copy(update={"host": args.host, "port": args.port})
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                log_level=settings.log_level)


if __name__ == "__main__":
    run()
