"""REST: health, options, sessions (create, info, snapshot export/import)."""

from __future__ import annotations

import asyncio
import io
import json
from typing import Annotated, Any

import numpy as np
import segno
from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict

from .. import __version__
from ..live.codes import normalize_code
from ..live.forks import BACK
from ..live.registry import SessionRegistry
from ..live.session import LimitError, LiveSession
from ..trainer import DATASETS, ConfigError
from ..trainer.snapshot_checks import key_name
from ..wire.catalogue import options
from ..wire.commands import Role
from ..wire.messages import to_json
from .errors import api_error, responses

#: Every route may answer 400 (a Host this server does not answer for, api.guards).
router = APIRouter(prefix="/api", responses=responses(400))


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


def created(session: LiveSession) -> CreateSessionResponse:
    """The answer to a create or a fork: the new session and, once, its presenter token."""
    assert session.presenter_token is not None  # a session made by this request
    return CreateSessionResponse(id=session.id, presenter_token=session.presenter_token,
                                 websocket=f"/ws/sessions/{session.id}",
                                 config=session.info()["config"])


def client_address(request: Request) -> str:
    """The client's IP address (what per-address limits count)."""
    return request.client.host if request.client else "unknown"


def registry(request: Request) -> SessionRegistry:
    result: SessionRegistry = request.app.state.registry
    return result


def _session(request: Request, session_id: str) -> LiveSession:
    session = registry(request).get(session_id)
    if session is None:
        raise api_error(404, "id", "no such session")
    return session


def authorized(request: Request, session_id: str) -> LiveSession:
    """The session, if the request's ``Authorization: Bearer <token>`` opens it: the
    presenter token, or the member token of a viewer connected to the presented class.
    A session id alone opens nothing (401 without a token, 403 with a wrong one)."""
    return opened_by(request, session_id)[0]


def opened_by(request: Request, session_id: str) -> tuple[LiveSession, Role]:
    """:func:`authorized`'s session and what the token is: ``presenter`` or ``viewer`` (a
    class member's token)."""
    session = _session(request, session_id)
    header = request.headers.get("authorization")
    if not header:
        raise api_error(401, "authorization", "send the presenter token or a class member "
                        "token: Authorization: Bearer <token>",
                        headers={"WWW-Authenticate": "Bearer"})
    scheme, _, token = header.strip().partition(" ")
    role = session.credential(token.strip()) if scheme.lower() == "bearer" else None
    if role is None:
        raise api_error(403, "authorization", "this token does not open this session "
                        "(a member token ends with its socket or the class)")
    return session, role


def limit_lookups(request: Request) -> None:
    """429 (with Retry-After) when this address looks join codes up too fast: codes are
    short, so guessing them must be slow."""
    wait = request.app.state.lookups.wait(client_address(request))
    if wait > 0:
        seconds = max(1, round(wait + 0.5))
        raise api_error(429, "code", f"too many join-code lookups from your address: try "
                        f"again in {seconds} s", headers={"Retry-After": str(seconds)})


def parse_body(body: bytes) -> Any:
    """A JSON request body (empty: None); 422 if it is not JSON (worker thread: a body of
    megabytes is not parsed on the event loop)."""
    if not body.strip():
        return None
    try:
        return json.loads(body)
    except RecursionError as error:
        raise api_error(422, None, "not valid JSON: nested too deeply") from error
    except (ValueError, UnicodeDecodeError) as error:
        raise api_error(422, None, f"not valid JSON: {error}") from error


def create_request(raw: Any) -> CreateSessionRequest:
    """The create body as a model; 422 naming the field when it is not one."""
    if raw is None:
        return CreateSessionRequest()
    if not isinstance(raw, dict):
        raise api_error(422, None, "the body is a JSON object: {config} or {snapshot}")
    unknown = sorted(str(key) for key in raw if key not in ("config", "snapshot"))
    if unknown:
        raise api_error(422, key_name(unknown[0]), "is not a field of this request")
    for key in ("config", "snapshot"):
        if raw.get(key) is not None and not isinstance(raw[key], dict):
            raise api_error(422, key, "must be an object")
    return CreateSessionRequest.model_construct(config=raw.get("config"),
                                                snapshot=raw.get("snapshot"))


@router.get("/health")
def health() -> dict[str, str]:
    """Liveness: the server answers."""
    return {"status": "ok", "version": __version__}


@router.get("/metrics", responses=responses(422))
def metrics(request: Request, reset: bool = False) -> dict[str, Any]:
    """Event-loop lag (p50/p99/max over recent samples), sessions, subscribers, and the
    trainer threads (jobs waiting, how long jobs wait for a thread). ``reset=true`` starts a
    new measurement window."""
    lag, scheduler = request.app.state.lag, registry(request).scheduler
    summary = {"event_loop_lag": lag.summary(), "sessions": len(registry(request).sessions),
               "subscribers": sum(len(s.subscribers) for s in registry(request).sessions.values()),
               "trainer_threads": scheduler.summary()}
    if reset:
        lag.reset()
        scheduler.reset_summary()
    return summary


@router.get("/options")
def get_options(request: Request) -> dict[str, Any]:
    """Data sets, features, activations, losses, optimizers, and every limit."""
    return options(request.app.state.settings)


@router.get("/datasets/{name}/preview", responses=responses(404, 422))
def dataset_preview(name: str) -> dict[str, Any]:
    """A small sample of a data set (for its thumbnail): ``points`` as [x1, x2, label]."""
    spec = DATASETS.get(name)
    if spec is None:
        raise api_error(404, "name", "no such data set")
    points, labels = spec.generate(np.random.default_rng(7), 160, 0.0)
    rows = np.column_stack([points, labels]).round(3)
    return {"name": name, "problem": spec.problem, "points": rows.tolist()}


CREATE_BODY = {"requestBody": {"required": False, "content": {
    "application/json": {"schema": CreateSessionRequest.model_json_schema()}}}}


@router.post("/sessions", status_code=201, openapi_extra=CREATE_BODY,
             responses=responses(403, 413, 415, 422, 429, 503))
async def create_session(request: Request) -> CreateSessionResponse:
    """Create a session from a config, or import an exported run (``snapshot``). The body
    is parsed and validated off the event loop."""
    body = create_request(await asyncio.to_thread(parse_body, await request.body()))
    if body.config is not None and body.snapshot is not None:
        raise api_error(422, "snapshot", "give a config or a snapshot, not both")
    try:
        session = await registry(request).create(body.config, body.snapshot,
                                                 owner=client_address(request))
    except ConfigError as error:
        raise api_error(422, error.field, error.message) from error
    except LimitError as error:
        raise api_error(503, None, str(error)) from error
    return created(session)


@router.get("/sessions/{session_id}", responses=responses(404, 422))
def session_info(request: Request, session_id: str) -> dict[str, Any]:
    """Step, epoch, run state, viewer count and config of a session."""
    return _session(request, session_id).info()


@router.get("/sessions/{session_id}/snapshot", responses=responses(401, 403, 404, 422))
async def export_session(request: Request, session_id: str) -> dict[str, Any]:
    """The whole run as JSON (config, weights, optimizer state, data order, history), for
    its presenter or a member of its class (``Authorization: Bearer <token>``)."""
    return await authorized(request, session_id).fork()


@router.get("/join/{code}", responses=responses(404, 422, 429))
async def join(request: Request, code: str) -> dict[str, Any]:
    """The session a join code belongs to (codes are case-insensitive); with Redis, also a
    class presented by another server process. Lookups are rate-limited per address (429)."""
    limit_lookups(request)
    session_id = await registry(request).find_code(code)
    if session_id is None:
        raise api_error(404, "code", "no class with this code (it may have ended)")
    return {"session": session_id, "code": normalize_code(code),
            "websocket": f"/ws/sessions/{session_id}"}


@router.get("/join/{code}/qr.svg", response_class=Response,
            responses=responses(404, 422, 429))
def join_qr(request: Request, code: str) -> Response:
    """A QR code of the join link, as SVG (rate-limited like the lookup)."""
    limit_lookups(request)
    session = registry(request).by_code(code)
    if session is None or session.join_code is None:
        raise api_error(404, "code", "no class with this code")
    link = str(request.base_url).rstrip("/") + f"/join/{session.join_code}"
    svg = io.BytesIO()
    segno.make(link, error="m").save(svg, kind="svg", scale=8, border=2, dark="#1d2430")
    return Response(svg.getvalue(), media_type="image/svg+xml")


@router.post("/sessions/{session_id}/fork", status_code=201,
             responses=responses(401, 403, 404, 413, 415, 422, 503))
async def fork_session(request: Request, session_id: str) -> CreateSessionResponse:
    """A private copy of a session as it is now (weights, optimizer state, data order,
    history), with its own presenter token; for its presenter or a member of its class
    (``Authorization: Bearer <token>``: the presenter token, or the ``member_token`` of a
    viewer's welcome)."""
    source, role = opened_by(request, session_id)
    exported = await source.fork()
    try:
        session = await registry(request).create(exported=exported,
                                                 owner=client_address(request))
    except ConfigError as error:  # not expected: the export is the server's own
        raise api_error(500, error.field, error.message) from error
    except LimitError as error:
        raise api_error(503, None, str(error)) from error
    if role == "viewer":  # a class member's fork stays linked to the class (live/forks.py)
        registry(request).forks.link(session, source)
    return created(session)


# -------------------------------------------------------------------- forks of a class
class SpotlightResponse(BaseModel):
    """A spotlight of fork ``number``: open ``path`` (the page, read-only, a viewer of that
    fork) within ``expires_in`` seconds; ``code`` is what its hello carries."""

    number: int
    code: str
    path: str
    expires_in: float


def presenter_of(request: Request, session_id: str) -> LiveSession:
    """The session, if the request carries its presenter token (a member token: 403)."""
    session, role = opened_by(request, session_id)
    if role != "presenter":
        raise api_error(403, "authorization", "only the class's presenter may list and show "
                        "its forks")
    return session


@router.get("/sessions/{session_id}/forks", responses=responses(401, 403, 404, 422))
def list_forks(request: Request, session_id: str) -> dict[str, Any]:
    """The class's forks for its presenter, anonymous: numbers, steps and losses (the
    ``forks`` message the presenter's socket gets)."""
    listing = registry(request).forks.listing(presenter_of(request, session_id).id)
    result: dict[str, Any] = json.loads(to_json(listing))  # non-finite numbers as null
    return result


@router.post("/sessions/{session_id}/forks/{number}/spotlight", status_code=201,
             responses=responses(401, 403, 404, 415, 422))
def spotlight_fork(request: Request, session_id: str,
                   number: Annotated[int, Path(ge=1, le=2**53)]) -> SpotlightResponse:
    """Show fork ``number`` of the class to its presenter, read-only: a spotlight code that
    opens viewer sockets on the fork (the spotlight shown before ends)."""
    session = presenter_of(request, session_id)
    try:
        spotlight = registry(request).forks.spotlight(session.id, number)
    except LookupError as error:
        raise api_error(404, "number", f"the class has no fork {number} that its owner "
                        "shares") from error
    return SpotlightResponse(number=number, code=spotlight.code,
                             path=f"/join/{spotlight.code}",
                             expires_in=request.app.state.settings.spotlight_code_seconds)


@router.delete("/sessions/{session_id}/spotlight", status_code=204,
               responses=responses(401, 403, 404, 422))
def end_spotlight(request: Request, session_id: str) -> Response:
    """Back to the class: the spotlight's sockets close (4411); nothing else changes."""
    session = presenter_of(request, session_id)
    registry(request).forks.end_spotlight(session.id, BACK, tell=False)
    return Response(status_code=204)
