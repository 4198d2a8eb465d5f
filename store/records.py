"""What the store's read functions return: plain, immutable rows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class StoredEvent:
    position: int
    event_id: str | None
    type: str  # short type: "ContentEvent"
    action: str  # short, normalised action: "Created", "Modified", "Deleted", "Graded", …
    event_time_ms: int  # eventTime, milliseconds since the epoch, UTC
    received_at_ms: int
    actor_id: str | None
    object_id: str | None
    course_id: str | None
    raw: dict[str, Any]  # the event exactly as received


@dataclass(frozen=True, slots=True)
class StoredRejectedItem:
    row_id: int
    received_at_ms: int
    reason: str
    path: str
    raw: Any
