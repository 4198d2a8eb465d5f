"""Course analytics types: activity points, score statistics and their histogram, view
statistics. The figures come from app/projections/analytics.py over the store's counts."""

from __future__ import annotations

from enum import Enum

import strawberry
from strawberry.types import Info

from app.api.errors import bad_user_input
from app.api.scalars import DateTime
from app.projections.analytics import (
    BUCKET_ORIGIN_MS,
    BUCKET_WIDTH_MS,
    ActivityPointState,
    ScoreSummary,
    bucket_of,
    bucket_start_ms,
    fill_buckets,
    histogram,
    summarise_scores,
)
from store import read


@strawberry.enum(description="UTC days; ISO weeks from Monday 00:00 UTC")
class ActivityBucket(Enum):
    DAY = "DAY"
    WEEK = "WEEK"


@strawberry.type
class ActivityPoint:
    start: DateTime = strawberry.field(description="the bucket's first instant")
    events: int = strawberry.field(description="the course's stored events in the bucket")
    active_users: int = strawberry.field(description="distinct Person actors among them")


async def course_activity(
    info: Info,
    course_id: str,
    as_of: int | None,
    since: int | None,
    until: int | None,
    bucket: ActivityBucket,
) -> list[ActivityPoint]:
    """One point per bucket from the one holding `since` (default: the course's first
    event) to the one holding `until` (default: its last), zeros included. Cached while
    the course's newest position stays the same."""
    context = info.context
    cache_key = await context.cache_key("activity", course_id, as_of, since, until, bucket.value)
    stamp = await read.course_stamp(context.store, course_id)
    points = context.cached(cache_key, stamp)
    if points is None:
        points = await _activity_points(info, course_id, as_of, since, until, bucket)
        context.keep(cache_key, stamp, points)
    return [
        ActivityPoint(start=p.start_ms, events=p.events, active_users=p.active_users)
        for p in points
    ]


async def _activity_points(
    info: Info,
    course_id: str,
    as_of: int | None,
    since: int | None,
    until: int | None,
    bucket: ActivityBucket,
) -> list[ActivityPointState]:
    store = info.context.store
    width = BUCKET_WIDTH_MS[bucket.value]
    if since is None or until is None:
        span = await read.course_time_span(store, course_id, as_of)
        if span is None:
            return []
        since = span[0] if since is None else since
        until = span[1] if until is None else until
    if since > until:
        return []
    first, last = bucket_of(since, width), bucket_of(until, width)
    limit = info.context.settings.analytics_max_buckets
    if last - first + 1 > limit:
        raise bad_user_input(
            f"`activity`: {last - first + 1} {bucket.value} buckets between `since` and "
            f"`until`; at most {limit} are served (COURSEGRAPH_ANALYTICS_MAX_BUCKETS): "
            "narrow the range or use WEEK"
        )
    rows = await read.course_activity(
        store,
        course_id,
        origin_ms=BUCKET_ORIGIN_MS,
        width_ms=width,
        since_ms=bucket_start_ms(first, width),
        until_ms=bucket_start_ms(last + 1, width) - 1,
        as_of_ms=as_of,
    )
    people = await read.people_among(store, [row.actor_id for row in rows if row.actor_id])
    return fill_buckets(
        [(row.bucket, row.events, row.actor_id in people) for row in rows], first, last, width
    )


@strawberry.type
class HistogramBin:
    from_: float = strawberry.field(name="from")
    to: float
    count: int


@strawberry.type
class ScoreStatistics:
    count: int = strawberry.field(
        description="attempts of the item whose current score has a scoreGiven"
    )
    mean: float | None
    median: float | None
    min: float | None
    max: float | None
    stddev: float | None = strawberry.field(description="population standard deviation")
    scores: strawberry.Private[list[float]]
    max_score: strawberry.Private[float | None]

    @classmethod
    def of(cls, scores: list[float], max_score: float | None) -> ScoreStatistics:
        summary: ScoreSummary = summarise_scores(scores)
        return cls(
            count=summary.count,
            mean=summary.mean,
            median=summary.median,
            min=summary.min,
            max=summary.max,
            stddev=summary.stddev,
            scores=scores,
            max_score=max_score,
        )

    @strawberry.field(
        description="equal-width bins from 0 to the item's maxScore (from the lowest to the "
        "highest score when it has none)"
    )
    def histogram(self, info: Info, bins: int | None = 10) -> list[HistogramBin]:
        limit = info.context.settings.analytics_max_bins
        if bins is None or not 1 <= bins <= limit:
            raise bad_user_input(
                f"`histogram(bins:)` must be between 1 and {limit} "
                f"(COURSEGRAPH_ANALYTICS_MAX_BINS; got {bins})"
            )
        return [
            HistogramBin(from_=b.lo, to=b.hi, count=b.count)
            for b in histogram(self.scores, bins, self.max_score)
        ]


async def item_score_statistics(
    info: Info, item_id: str, course_id: str | None, as_of: int | None, max_score: float | None
) -> ScoreStatistics:
    """Over the item's attempts whose current score has a scoreGiven."""
    scores: list[float] = []
    if course_id:
        attempts = await info.context.course_attempts().load((course_id, as_of))
        scores = [
            a.score.score_given
            for a in attempts
            if a.gradable_item_id == item_id
            and a.score is not None
            and a.score.score_given is not None
        ]
    return ScoreStatistics.of(scores, max_score)


@strawberry.type
class ViewStatistics:
    views: int = strawberry.field(
        description="Viewed or NavigatedTo events whose object is the item"
    )
    unique_viewers: int
    last_viewed_at: DateTime | None


async def item_view_statistics(info: Info, item_id: str, as_of: int | None) -> ViewStatistics:
    found = await info.context.view_counts().load((item_id, as_of))
    if found is None:
        return ViewStatistics(views=0, unique_viewers=0, last_viewed_at=None)
    return ViewStatistics(
        views=found.views, unique_viewers=found.unique_viewers, last_viewed_at=found.last_viewed_ms
    )
