"""REST errors: one shape for every refusal, ``{"detail": {"field", "message"}}``, declared in
the OpenAPI document for each status a route can answer, and written as ASCII JSON (a
field or message may quote what the client sent, lone surrogates included)."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response


class ErrorDetail(BaseModel):
    """What was refused: the culprit's dotted path (null when no single field is at
    fault) and the reason in plain words."""

    field: str | None = Field(description="Dotted path of the culprit, e.g. "
                                          "snapshot.parameters[0][3], or null.")
    message: str


class ErrorResponse(BaseModel):
    """Every REST error."""

    detail: ErrorDetail


#: What each error status means, for the OpenAPI document.
STATUS_MEANINGS = {
    400: "the Host header names no host this server answers for",
    401: "the request needs the presenter token or a class member token "
         "(Authorization: Bearer …)",
    403: "the request comes from another origin (its Origin header), or its credential "
         "does not open this session",
    404: "no such session, data set or join code",
    413: "the request body is larger than max_request_bytes",
    415: "a request body that is not JSON (Content-Type: application/json)",
    422: "a bad config or snapshot (the field is named)",
    429: "too many requests from this address (Retry-After says when to try again)",
    503: "a server limit is reached (sessions, or sessions of this address)",
}


def responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """The ``responses=`` of a route that can answer these error statuses."""
    return {status: {"model": ErrorResponse, "description": STATUS_MEANINGS[status]}
            for status in statuses}


def api_error(status: int, field: str | None, message: str,
              headers: dict[str, str] | None = None) -> HTTPException:
    """An HTTPException with the error shape (raise it)."""
    return HTTPException(status, detail={"field": field, "message": message}, headers=headers)


def error_body(field: str | None, message: str) -> bytes:
    """The JSON body of an error (ASCII, so any text the client sent survives)."""
    return json.dumps({"detail": {"field": field, "message": message}}).encode()


def error_response(status: int, field: str | None, message: str,
                   headers: dict[str, str] | None = None) -> Response:
    return Response(error_body(field, message), status, headers=headers,
                    media_type="application/json")


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, StarletteHTTPException)
    detail = error.detail
    if isinstance(detail, dict) and set(detail) == {"field", "message"}:
        field, message = detail["field"], str(detail["message"])
    else:  # Starlette's own (405, a 404 of an unknown path): no single field
        field, message = None, str(detail)
    return error_response(error.status_code, field, message, dict(error.headers or {}))


async def _validation_error(request: Request, error: Exception) -> Response:
    """FastAPI's own parameter validation, in the same shape: the first complaint."""
    assert isinstance(error, RequestValidationError)
    first = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
    where = ".".join(str(part) for part in first.get("loc", ())[1:]) or None
    return error_response(422, where, str(first.get("msg", "invalid request")))


def install(app: FastAPI) -> None:
    """Answer every HTTPException and validation error in the one error shape."""
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
