"""Course analytics as pure functions over what the store counted or folded: activity
buckets, a participant's role, score statistics and their histogram. The definitions
are the contract's ("Course analytics")."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from app.caliper.values import ref_id
from store.records import StoredEvent

DAY_MS = 86_400_000
WEEK_MS = 7 * DAY_MS
# Monday 1970-01-05T00:00Z moved 100,000 weeks into the past: every (time - origin) is
# positive, so integer division floors, and whole multiples of a day or a week from it
# start at UTC midnight (weeks: on a Monday).
BUCKET_ORIGIN_MS = 4 * DAY_MS - 100_000 * WEEK_MS
BUCKET_WIDTH_MS = {"DAY": DAY_MS, "WEEK": WEEK_MS}


def bucket_of(time_ms: int, width_ms: int) -> int:
    return (time_ms - BUCKET_ORIGIN_MS) // width_ms


def bucket_start_ms(bucket: int, width_ms: int) -> int:
    return BUCKET_ORIGIN_MS + bucket * width_ms


@dataclass(frozen=True, slots=True)
class ActivityPointState:
    start_ms: int
    events: int
    active_users: int


def fill_buckets(
    counted: Iterable[tuple[int, int, bool]], first: int, last: int, width_ms: int
) -> list[ActivityPointState]:
    """One point per bucket from `first` to `last` (bucket numbers), zeros included, from
    (bucket, events, is a person) per bucket and actor: each person actor is one active
    user of that bucket."""
    events: dict[int, int] = {}
    users: dict[int, int] = {}
    for bucket, count, is_person in counted:
        events[bucket] = events.get(bucket, 0) + count
        users[bucket] = users.get(bucket, 0) + (1 if is_person else 0)
    return [
        ActivityPointState(bucket_start_ms(b, width_ms), events.get(b, 0), users.get(b, 0))
        for b in range(first, last + 1)
    ]


# --- roles -----------------------------------------------------------------------------


def short_role(role: Any) -> str | None:
    """`http://purl.imsglobal.org/vocab/lis/v2/membership#Learner` → `Learner`."""
    if not isinstance(role, str) or not role:
        return None
    return role.rstrip("/").rsplit("#", 1)[-1].rsplit("/", 1)[-1] or None


def membership_for(event: StoredEvent, person_id: str) -> dict[str, Any] | None:
    """The event's membership when it is the person's: its member is them, or it has no
    member and they are the event's actor."""
    membership = event.raw.get("membership")
    if not isinstance(membership, dict):
        return None
    member = ref_id(membership.get("member"))
    if member is None:
        return membership if event.actor_id == person_id else None
    return membership if member == person_id else None


def role_of(person_id: str, newest_first: Sequence[StoredEvent]) -> str | None:
    """The first entry of `roles` in the newest of these events whose membership is the
    person's and sends roles (a membership without roles says nothing of the role)."""
    for event in newest_first:
        membership = membership_for(event, person_id)
        if membership is None:
            continue
        roles = membership.get("roles")
        first = roles[0] if isinstance(roles, list) and roles else roles
        role = short_role(first)
        if role is not None:
            return role
    return None


# --- scores ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScoreSummary:
    count: int
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    stddev: float | None  # population


def summarise_scores(scores: Sequence[float]) -> ScoreSummary:
    if not scores:
        return ScoreSummary(0, None, None, None, None, None)
    ordered = sorted(scores)
    n = len(ordered)
    mean = math.fsum(ordered) / n
    middle = n // 2
    median = ordered[middle] if n % 2 else (ordered[middle - 1] + ordered[middle]) / 2
    variance = math.fsum((x - mean) ** 2 for x in ordered) / n
    return ScoreSummary(n, mean, median, ordered[0], ordered[-1], math.sqrt(variance))


@dataclass(frozen=True, slots=True)
class Bin:
    lo: float
    hi: float
    count: int


def histogram(scores: Sequence[float], bins: int, max_score: float | None) -> list[Bin]:
    """Equal bins over 0..maxScore (when above 0), else over the lowest..highest score;
    x goes to bin min(n-1, max(0, floor((x - lo) * n / (hi - lo)))); when hi <= lo,
    one bin from lo to hi holds every score."""
    if max_score is not None and max_score > 0:
        lo, hi = 0.0, float(max_score)
    elif scores:
        lo, hi = float(min(scores)), float(max(scores))
    else:
        lo, hi = 0.0, 0.0
    if hi <= lo:
        return [Bin(lo, hi, len(scores))]
    counts = [0] * bins
    for x in scores:
        counts[min(bins - 1, max(0, math.floor((x - lo) * bins / (hi - lo))))] += 1
    width = (hi - lo) / bins
    return [
        Bin(lo + i * width, hi if i == bins - 1 else lo + (i + 1) * width, count)
        for i, count in enumerate(counts)
    ]
