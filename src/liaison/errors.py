"""One error hierarchy for the whole node; the web layer maps it to RFC 9457 problem documents."""

from __future__ import annotations


class LiaisonError(Exception):
    """Base of every error a user or a peer can be shown. `detail` says what was wrong and where."""

    status = 500
    title = "Internal error"

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class InvalidInput(LiaisonError):
    status = 422
    title = "Invalid input"


class NotFound(LiaisonError):
    status = 404
    title = "Not found"


class Conflict(LiaisonError):
    status = 409
    title = "Conflict"


class NotAuthenticated(LiaisonError):
    status = 401
    title = "Authentication required"


class Forbidden(LiaisonError):
    status = 403
    title = "Forbidden"


class RateLimited(LiaisonError):
    status = 429
    title = "Too many attempts"


class ConfigurationError(LiaisonError):
    """The node directory, its configuration or its database is not usable as it stands."""

    status = 500
    title = "Configuration error"
