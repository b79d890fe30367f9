"""REST: health, options, sessions (create, info, snapshot export/import)."""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import segno
from fastapi import APIRouter, HTTPException, Request, Response
from pydantic import BaseModel, ConfigDict

from .. import __version__
from ..live.codes import normalize_code
from ..live.registry import SessionRegistry
from ..live.session import LimitError, LiveSession
from ..trainer import DATASETS, ConfigError
from ..wire.catalogue import options

router = APIRouter(prefix="/api")


class CreateSessionRequest(BaseModel):
    """A config (any subset of network, data, hyper, seed) or an exported run, or neither."""

    model_config = ConfigDict(extra="forbid")
    config: dict[str, Any] | None = None
    snapshot: dict[str, Any] | None = None


class CreateSessionResponse(BaseModel):
    """The new session; keep ``presenter_token`` secret (send it in the socket's hello)."""

    id: str
    presenter_token: str
    websocket: str
    config: dict[str, Any]


def registry(request: Request) -> SessionRegistry:
    result: SessionRegistry = request.app.state.registry
    return result


def _session(request: Request, session_id: str) -> LiveSession:
    session = registry(request).get(session_id)
    if session is None:
        raise HTTPException(404, detail={"field": "id", "message": "no such session"})
    return session


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the server answers."""
    return {"status": "ok", "version": __version__}


@router.get("/metrics")
def metrics(request: Request, reset: bool = False) -> dict[str, Any]:
    """Event-loop lag (p50/p99/max over recent samples), sessions and subscribers.
    ``reset=true`` starts a new measurement window."""
    lag = request.app.state.lag
    summary = {"event_loop_lag": lag.summary(), "sessions": len(registry(request).sessions),
               "subscribers": sum(len(s.subscribers) for s in registry(request).sessions.values())}
    if reset:
        lag.reset()
    return summary


@router.get("/options")
def get_options(request: Request) -> dict[str, Any]:
    """Data sets, features, activations, losses, optimizers, and every limit."""
    return options(request.app.state.settings)


@router.get("/datasets/{name}/preview")
def dataset_preview(name: str) -> dict[str, Any]:
    """A small sample of a data set (for its thumbnail): ``points`` as [x1, x2, label]."""
    spec = DATASETS.get(name)
    if spec is None:
        raise HTTPException(404, detail={"field": "name", "message": "no such data set"})
    points, labels = spec.generate(np.random.default_rng(7), 160, 0.0)
    rows = np.column_stack([points, labels]).round(3)
    return {"name": name, "problem": spec.problem, "points": rows.tolist()}


@router.post("/sessions", status_code=201)
async def create_session(request: Request, body: CreateSessionRequest | None = None
                   ) -> CreateSessionResponse:
    """Create a session from a config, or import an exported run (``snapshot``)."""
    body = body or CreateSessionRequest()
    if body.config is not None and body.snapshot is not None:
        raise HTTPException(422, detail={"field": "snapshot",
                                         "message": "give a config or a snapshot, not both"})
    try:
        session = registry(request).create(body.config, body.snapshot)
    except ConfigError as error:
        raise HTTPException(422, detail={"field": error.field, "message": error.message}) \
            from error
    except LimitError as error:
        raise HTTPException(503, detail={"field": None, "message": str(error)}) from error
    info = session.info()
    return CreateSessionResponse(id=session.id, presenter_token=session.presenter_token,
                                 websocket=f"/ws/sessions/{session.id}", config=info["config"])


@router.get("/sessions/{session_id}")
def session_info(request: Request, session_id: str) -> dict[str, Any]:
    """Step, epoch, run state, viewer count and config of a session."""
    return _session(request, session_id).info()


@router.get("/sessions/{session_id}/snapshot")
async def export_session(request: Request, session_id: str) -> dict[str, Any]:
    """The whole run as JSON (config, weights, optimizer state, data order, history)."""
    session = _session(request, session_id)
    async with session.lock:  # not while a step is half done in the trainer thread
        return session.export()


@router.get("/join/{code}")
async def join(request: Request, code: str) -> dict[str, Any]:
    """The session a join code belongs to (codes are case-insensitive); with Redis, also a
    class presented by another server process."""
    session_id = await registry(request).find_code(code)
    if session_id is None:
        raise HTTPException(404, detail={"field": "code",
                                         "message": "no class with this code (it may have ended)"})
    return {"session": session_id, "code": normalize_code(code),
            "websocket": f"/ws/sessions/{session_id}"}


@router.get("/join/{code}/qr.svg", response_class=Response)
def join_qr(request: Request, code: str) -> Response:
    """A QR code of the join link, as SVG."""
    session = registry(request).by_code(code)
    if session is None or session.join_code is None:
        raise HTTPException(404, detail={"field": "code", "message": "no class with this code"})
    link = str(request.base_url).rstrip("/") + f"/join/{session.join_code}"
    svg = io.BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=8, border=2, dark="#1d2430")
    return Response(svg.getvalue(), media_type="image/svg+xml")


@router.post("/sessions/{session_id}/fork", status_code=201)
async def fork_session(request: Request, session_id: str) -> CreateSessionResponse:
    """A private copy of a session as it is now (weights, optimizer state, data order,
    history), with its own presenter token."""
    source = _session(request, session_id)
    exported = await source.fork()
    try:
        session = registry(request).create(exported=exported)
    except ConfigError as error:  # not expected: the export is the server's own
        raise HTTPException(500, detail={"field": error.field, "message": error.message}) \
            from error
    except LimitError as error:
        raise HTTPException(503, detail={"field": None, "message": str(error)}) from error
    return CreateSessionResponse(id=session.id, presenter_token=session.presenter_token,
                                 websocket=f"/ws/sessions/{session.id}",
                                 config=session.info()["config"])
