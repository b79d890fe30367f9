"""A table from command model to the handler that carries the command out."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from pydantic import BaseModel

S = TypeVar("S")
C = TypeVar("C", bound=BaseModel)


class CommandTable(Generic[S]):
    """Command model → ``async handler(session, command) -> step``, for sessions of type
    ``S``; :meth:`add` checks (under mypy) that the handler takes that command."""

    def __init__(self) -> None:
        self._handlers: dict[type[BaseModel], Callable[[S, Any], Awaitable[int]]] = {}

    def add(self, kind: type[C], handler: Callable[[S, C], Awaitable[int]]) -> None:
        if kind in self._handlers:
            raise ValueError(f"{kind.__name__} already has a handler")
        self._handlers[kind] = handler

    @property
    def kinds(self) -> frozenset[type[BaseModel]]:
        """The command models this table handles."""
        return frozenset(self._handlers)

    async def dispatch(self, session: S, command: BaseModel) -> int:
        """Carry out ``command`` on ``session``; the step at which it took effect."""
        return await self._handlers[type(command)](session, command)
