"""The one error hierarchy: every rejection carries a stable code, a plain message and a field.

Code raises these; only boundaries (CLI, API, pages) translate them for people.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Problem:
    """One thing wrong with an input: what, where and what to do."""

    code: str
    message: str
    field: str | None = None
    hint: str | None = None

    def as_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "field": self.field}


class SextantError(Exception):
    """Base of every error Sextant raises on purpose. Subclasses fix the HTTP status."""

    status = 500

    def __init__(
        self,
        code: str,
        message: str,
        *,
        field: str | None = None,
        hint: str | None = None,
        problems: list[Problem] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field
        self.hint = hint
        self.problems = problems or [Problem(code, message, field, hint)]

    @classmethod
    def from_problems(cls, problems: list[Problem]) -> SextantError:
        """One error reporting every problem at once; the first one names it."""
        first = problems[0]
        message = "; ".join(p.message for p in problems)
        return cls(first.code, message, field=first.field, hint=first.hint, problems=problems)

    def as_dict(self) -> dict:
        return {
            "ok": False,
            "status": self.status,
            "errors": [p.as_dict() for p in self.problems],
        }


class InvalidInput(SextantError):
    status = 400


class Unprocessable(SextantError):
    status = 422


class Unauthorized(SextantError):
    status = 401


class RequestTimeout(SextantError):
    status = 408


class Forbidden(SextantError):
    status = 403


class NotFound(SextantError):
    status = 404


class TooLarge(SextantError):
    status = 413


class Unsupported(SextantError):
    status = 400


class Conflict(SextantError):
    status = 409


class StoreError(SextantError):
    """The store cannot do what was asked (locked file, newer schema than this code)."""

    status = 503


class Unavailable(SextantError):
    """Retry later: draining, backlog full, journal failing (503 with Retry-After)."""

    status = 503

    def __init__(self, code: str, message: str, retry_after: int = 1) -> None:
        super().__init__(code, message, hint=f"retry after {retry_after} s")
        self.retry_after = retry_after
