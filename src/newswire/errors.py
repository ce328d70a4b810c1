"""The project's exceptions.

One root, ``NewswireError``, so callers can catch everything the project raises on purpose;
third-party exceptions are translated into these at exactly one boundary (fetch, parse, store)
with the original kept as ``__cause__``.

    NewswireError
    ├── FetchError            the network said no: status, timeout, size, redirect, address guard
    │   ├── BlockedAddressError   host resolves to a loopback/private/link-local/metadata address
    │   └── ResponseTooLargeError body exceeded the size cap
    ├── ParseError (ValueError)   the bytes are not a feed we can read
    ├── StorageError          the database refused a write or read
    ├── SourceExistsError (ValueError)  adding a feed that is already followed
    └── NotFound (LookupError)          no such source / article
"""

from __future__ import annotations


class NewswireError(Exception):
    """Root of every error Newswire raises on purpose. Messages start with the stage name."""


class FetchError(NewswireError):
    """A feed could not be fetched. ``reason`` is a short machine-friendly tag for summaries."""

    def __init__(self, message: str, *, reason: str = "error", status: int | None = None):
        super().__init__(message)
        self.reason = reason
        self.status = status


class BlockedAddressError(FetchError):
    def __init__(self, message: str):
        super().__init__(message, reason="blocked-address")


class ResponseTooLargeError(FetchError):
    def __init__(self, message: str):
        super().__init__(message, reason="too-large")


class ParseError(NewswireError, ValueError):
    """The bytes are not a feed Newswire can read (HTML page, empty, binary, refused XML)."""


class StorageError(NewswireError):
    pass


class SourceExistsError(NewswireError, ValueError):
    def __init__(self, message: str, *, source_id: int | None = None):
        super().__init__(message)
        self.source_id = source_id


class NotFound(NewswireError, LookupError):
    pass


class LastAdminError(NewswireError, ValueError):
    """Removing or demoting this user would leave nobody who can change anything."""

    def __init__(self, name_key: str):
        super().__init__(f"accounts: {name_key!r} is the only admin; make another user an admin first")
