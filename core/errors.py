"""Domain errors carry a message key (looked up in the catalog) and its parameters, never prose."""

from __future__ import annotations

from typing import Any


class RaceLost(Exception):
    """Another transaction wrote the same unique row first (two first messages of one new user at
    once): nothing is wrong with the request, and running the unit of work again finds that row."""


class DomainError(Exception):
    key = "error.generic"

    def __init__(self, key: str | None = None, **params: Any) -> None:
        self.key = key or type(self).key
        self.params = params
        super().__init__(self.key, params)


class InvalidInput(DomainError):
    key = "error.invalid"


class NotFound(DomainError):
    key = "error.not_found"


class PermissionDenied(DomainError):
    key = "error.permission_denied"


class Conflict(DomainError):
    key = "error.conflict"


class NotEligible(DomainError):
    """The actor may act, but the rules of the guidelines refuse this case (qualification, age, status)."""

    key = "error.not_eligible"
