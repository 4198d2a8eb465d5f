"""The store's own errors: drivers' exceptions are turned into these at the store's edge,
so nothing above it sees driver, SQL or parameter text."""

from __future__ import annotations


class StoreError(Exception):
    """Something went wrong in the store; the message is safe to show."""


class StoreUnavailable(StoreError):
    """The database cannot be reached, is read-only or full, or stays busy past its
    timeout: try again later."""

    def __init__(self, reason: str, retry_after_seconds: int = 5) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after_seconds = retry_after_seconds
