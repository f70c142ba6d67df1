"""Domain errors: raised by services, mapped to HTTP once by the API's exception handler."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a user can cause; carries a message a user understands.

    `message` is the bilingual text ("中文 / English") the API and the command line show;
    `key` and `params` name the same message in the portal's catalogue (error.*), which
    renders it in the reader's language with field labels and role names in words.
    """

    status = 400
    code = "bad_request"
    # An error that records something (a failed sign-in) keeps the unit of work's writes.
    keeps_writes = False

    def __init__(
        self,
        message: str,
        *,
        field: str | None = None,
        key: str | None = None,
        params: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.key = key
        self.params = params or {}


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class Conflict(DomainError):
    status = 409
    code = "conflict"


class InvalidInput(DomainError):
    status = 422
    code = "invalid"


class InvalidTransition(DomainError):
    status = 409
    code = "invalid_transition"


class Throttled(DomainError):
    """Too many attempts: refused until retry_after seconds have passed."""

    status = 429
    code = "too_many_attempts"
    keeps_writes = True

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, key="error.throttled", params={"seconds": retry_after})
        self.retry_after = retry_after


class SignInFailed(Unauthorized):
    """Wrong credentials; the failed attempt stays recorded for the throttle."""

    keeps_writes = True
