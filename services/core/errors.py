"""Domain errors: raised by services, mapped to HTTP once by the API's exception handler."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a user can cause; carries a message a user understands."""

    status = 400
    code = "bad_request"
    # An error that records something (a failed sign-in) keeps the unit of work's writes.
    keeps_writes = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


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
        super().__init__(message)
        self.retry_after = retry_after


class SignInFailed(Unauthorized):
    """Wrong credentials; the failed attempt stays recorded for the throttle."""

    keeps_writes = True
