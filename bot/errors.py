"""Domain errors: each carries a message-catalogue key so the user sees a clear answer."""

from __future__ import annotations

from typing import Any


class UserError(Exception):
    """Something the user can fix; rendered privately in their language."""

    def __init__(self, key: str, **params: Any) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


class InvalidInput(UserError):
    """Bad input; `field` names the modal block to show the error under."""

    def __init__(self, key: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(key, **params)
        self.field = field


class NotAllowed(UserError):
    pass


class NotFound(UserError):
    pass


class Conflict(UserError):
    """The thing was already changed by someone else (double click, old message)."""
