"""Suite-wide: browser tests run last (they are the slowest, and Playwright's event loop
must not be alive while other tests call asyncio.run)."""

from __future__ import annotations

from typing import Any


def pytest_collection_modifyitems(items: list[Any]) -> None:
    items.sort(key=lambda item: "/e2e/" in str(item.path).replace("\\", "/"))
