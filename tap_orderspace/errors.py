"""Errors a user can cause or fix, reported as one line instead of a traceback."""

from __future__ import annotations


class UserFacingError(Exception):
    """Something the user can fix: the message says what is wrong and what to do."""


class ConfigError(UserFacingError):
    """A setting is missing or malformed."""


class AuthenticationError(UserFacingError):
    """Orderspace refused the client credentials or the access token."""


class StateError(UserFacingError):
    """The state (bookmarks) handed to the tap cannot be used."""


class InputFileError(UserFacingError):
    """A state or catalog file cannot be read."""


class OrderspaceAPIError(UserFacingError):
    """The API refused a request, or kept failing after every retry."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status
