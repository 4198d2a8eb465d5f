"""Live subscriptions: one feed per worker follows the log and hands each new event to
the subscribers whose filter matches it.

The feed reads each new batch of events once, woken in-process when this worker
appends, by PostgreSQL NOTIFY when any process does, and by a slow poll of the newest
position where neither reaches it (SQLite written by another process, PostgreSQL while
LISTEN is down). An idle subscription costs no query at all."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, Callable, Iterator
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry.types import Info

from app.api.errors import ErrorCode, coded_error, too_complex
from app.api.event import Event, EventFilter, event_query
from app.api.log import course_scope
from app.caliper.model import COURSE
from app.settings import Settings
from graphql import GraphQLError
from store import read
from store.db import Store
from store.listen import AppendListener
from store.read import EventQuery
from store.records import StoredEvent

log = logging.getLogger("coursegraph.live")

# Events read from the log per statement, by the feed and by a replay.
PAGE_EVENTS = 500
# A subscriber that falls this far behind is closed with this WebSocket code.
FELL_BEHIND_CLOSE_CODE = 4413
# After a failed read the feed waits this long before it tries again.
RETRY_SECONDS = 1.0


@dataclass(frozen=True, slots=True)
class LiveFilter:
    """A subscription's filter as live delivery tests it: the course number stays a
    number, so a course that gets it later matches from then on."""

    query: EventQuery  # everything but the course
    course_id: str | None = None
    course_number: str | None = None

    @classmethod
    def of(cls, filter: EventFilter | None) -> LiveFilter:
        return cls(
            query=event_query(filter, None),
            course_id=str(filter.course_id) if filter and filter.course_id else None,
            course_number=filter.course_number if filter else None,
        )

    @property
    def scope(self) -> tuple[str, str] | None:
        """The one course (by id or by number) an event must be of, if any: the feed
        looks such filters up by the event's course instead of testing them all."""
        if self.course_id is not None:
            return ("id", self.course_id)
        if self.course_number is not None:
            return ("number", self.course_number)
        return None

    def matches(self, event: StoredEvent, course_numbers: dict[str, set[str]]) -> bool:
        """What events(filter:) lists, tested on one event (store.read's EventQuery does
        the rest, in Python as in SQL)."""
        if self.course_id is not None and event.course_id != self.course_id:
            return False
        if self.course_number is not None and (
            event.course_id is None
            or self.course_number not in course_numbers.get(event.course_id, ())
        ):
            return False
        return self.query.matches(event)


class Subscriber:
    """One subscription's place in the feed: a bounded queue of matching events."""

    __slots__ = ("connection", "fell_behind", "filter", "limit", "on_fell_behind", "queue", "ready")

    def __init__(
        self,
        live_filter: LiveFilter,
        connection: int,
        limit: int,
        on_fell_behind: Callable[[], None],
    ) -> None:
        self.filter = live_filter
        self.connection = connection
        self.limit = limit
        self.on_fell_behind = on_fell_behind
        self.queue: deque[StoredEvent] = deque()
        self.ready = asyncio.Event()
        self.fell_behind = False

    def take(self) -> Iterator[StoredEvent]:
        while self.queue:
            yield self.queue.popleft()


class LiveFeed:
    """The worker's one reader of new events, shared by all its subscriptions."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store: Store | None = None
        self._position = 0  # every event up to here has been handed out (or skipped)
        self._newest = 0  # the newest position anyone has told us about
        self._look = False  # news without a position: read whatever there is
        self._wake = asyncio.Event()
        self._by_filter: dict[LiveFilter, set[Subscriber]] = {}
        self._by_scope: dict[tuple[str, str], set[LiveFilter]] = {}
        self._anywhere: set[LiveFilter] = set()  # filters without a course
        self._numbered: set[LiveFilter] = set()  # filters that name a course number
        self._per_connection: dict[int, int] = {}
        self._course_numbers: dict[str, set[str]] = {}
        self._reader: asyncio.Task[None] | None = None
        self._listener: AppendListener | None = None
        self._closing: set[asyncio.Task[None]] = set()
        # What /metrics reports: subscriptions now, and each event's delay at hand-off.
        self.subscriptions = 0
        self.delivered = 0
        self.delivery_listeners: list[Callable[[float], None]] = []

    @property
    def store(self) -> Store:
        assert self._store is not None, "the feed starts with the app's lifespan"
        return self._store

    # --- lifespan ---------------------------------------------------------------------

    async def start(self, store: Store) -> None:
        self._store = store
        self._position = self._newest = await read.last_position(store)
        if not store.is_sqlite:
            self._listener = AppendListener(store, self.appended)
            self._listener.start()
        self._reader = asyncio.create_task(self._follow(), name="coursegraph-live-feed")

    async def stop(self) -> None:
        for task in (self._reader, *self._closing):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._listener is not None:
            await self._listener.stop()

    @property
    def newest_position(self) -> int:
        """The newest position this worker knows of: exact for its own appends and, on
        PostgreSQL, NOTIFY's; on SQLite others' appends show up within a poll."""
        return self._newest

    @property
    def listener(self) -> AppendListener | None:
        return self._listener

    # --- news of appends ----------------------------------------------------------------

    def appended(self, position: int | None) -> None:
        """Something was appended up to `position` (None: maybe something, go and look)."""
        if position is None:
            self._look = True
        else:
            self._newest = max(self._newest, position)
        self._wake.set()

    def _must_poll(self) -> bool:
        return self._listener is None or not self._listener.connected

    async def _follow(self) -> None:
        while True:
            try:
                await self._next_news()
                if not self._by_filter:  # nobody listens: nothing to read, only to skip
                    if self._look:
                        self._newest = max(self._newest, await read.last_position(self.store))
                    self._look = False
                    self._position = max(self._position, self._newest)
                    self._course_numbers.clear()
                    continue
                if self._newest <= self._position and not self._look:
                    continue
                self._look = False
                await self._hand_out()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database is away: try again, never stop following
                log.exception("the live feed could not read new events")
                await asyncio.sleep(RETRY_SECONDS)

    async def _next_news(self) -> None:
        timeout = self.settings.live_poll_seconds if self._must_poll() else None
        try:
            # asyncio.timeout, not wait_for: on Python 3.11 wait_for swallows a cancel
            # that arrives just as the event is set, and the feed would never stop.
            async with asyncio.timeout(timeout):
                await self._wake.wait()
        except TimeoutError:
            self._newest = max(self._newest, await read.last_position(self.store))
        self._wake.clear()

    async def _hand_out(self) -> None:
        page = min(PAGE_EVENTS, self.settings.live_queue_events)
        while True:
            events = await read.page_events(
                self.store, EventQuery(), after_cursor_position=self._position, limit=page
            )
            if not events:
                return
            if self._numbered:
                await self._learn_course_numbers(events)
            else:
                self._course_numbers.clear()  # kept current only while someone needs it
            for event in events:
                for live_filter in self._candidates(event):
                    if live_filter.matches(event, self._course_numbers):
                        for subscriber in list(self._by_filter.get(live_filter, ())):
                            self._push(subscriber, event)
            self._position = events[-1].position
            self._newest = max(self._newest, self._position)
            if len(events) < page:
                return

    def _candidates(self, event: StoredEvent) -> list[LiveFilter]:
        """The filters that can match the event: those without a course, and those of
        its course by id or by any of its numbers."""
        found = list(self._anywhere)
        course = event.course_id
        if course is not None and self._by_scope:
            found.extend(self._by_scope.get(("id", course), ()))
            for number in self._course_numbers.get(course, ()):
                found.extend(self._by_scope.get(("number", number), ()))
        return found

    async def _learn_course_numbers(self, events: list[StoredEvent]) -> None:
        """Course numbers of the batch's courses, including ones the batch introduces."""
        pairs = await read.alt_keys_between(self.store, COURSE, self._position, events[-1].position)
        for course, number in pairs:
            self._course_numbers.setdefault(course, set()).add(number)
        unknown = {e.course_id for e in events if e.course_id} - self._course_numbers.keys()
        if unknown:
            found = await read.alt_keys_of(self.store, COURSE, sorted(unknown))
            for course in unknown:
                self._course_numbers[course] = found.get(course, set())

    def _push(self, subscriber: Subscriber, event: StoredEvent) -> None:
        subscriber.queue.append(event)
        subscriber.ready.set()
        if len(subscriber.queue) > subscriber.limit:
            # It stopped reading: let go of what it holds and close its connection.
            subscriber.fell_behind = True
            subscriber.queue.clear()
            self.unsubscribe(subscriber)
            subscriber.on_fell_behind()

    # --- subscribers ----------------------------------------------------------------------

    def subscribe(
        self, live_filter: LiveFilter, connection: int, on_fell_behind: Callable[[], None]
    ) -> Subscriber:
        settings = self.settings
        if self._per_connection.get(connection, 0) >= settings.live_subscriptions_per_connection:
            limit = settings.live_subscriptions_per_connection
            raise too_complex(
                "COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_CONNECTION",
                limit,
                f"this connection already has {limit} subscriptions "
                f"(COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_CONNECTION={limit})",
            )
        if self.subscriptions >= settings.live_subscriptions_per_worker:
            limit = settings.live_subscriptions_per_worker
            raise coded_error(
                f"this server has {limit} live subscriptions, its most "
                f"(COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_WORKER={limit}); try again later",
                ErrorCode.SERVICE_UNAVAILABLE,
                limit="COURSEGRAPH_LIVE_SUBSCRIPTIONS_PER_WORKER",
                limitValue=limit,
            )
        subscriber = Subscriber(live_filter, connection, settings.live_queue_events, on_fell_behind)
        if live_filter not in self._by_filter:
            self._by_filter[live_filter] = set()
            scope = live_filter.scope
            if scope is None:
                self._anywhere.add(live_filter)
            else:
                self._by_scope.setdefault(scope, set()).add(live_filter)
            if live_filter.course_number is not None:
                self._numbered.add(live_filter)
        self._by_filter[live_filter].add(subscriber)
        self._per_connection[connection] = self._per_connection.get(connection, 0) + 1
        self.subscriptions += 1
        return subscriber

    def unsubscribe(self, subscriber: Subscriber) -> None:
        group = self._by_filter.get(subscriber.filter)
        if group is None or subscriber not in group:
            return
        group.discard(subscriber)
        if not group:
            live_filter = subscriber.filter
            del self._by_filter[live_filter]
            self._anywhere.discard(live_filter)
            self._numbered.discard(live_filter)
            scope = live_filter.scope
            if scope is not None:
                scoped = self._by_scope[scope]
                scoped.discard(live_filter)
                if not scoped:
                    del self._by_scope[scope]
        left = self._per_connection[subscriber.connection] - 1
        if left:
            self._per_connection[subscriber.connection] = left
        else:
            del self._per_connection[subscriber.connection]
        self.subscriptions -= 1

    def handed_over(self, event: StoredEvent) -> None:
        """An event went out to its subscriber: count it and its delay since receipt."""
        self.delivered += 1
        if self.delivery_listeners:
            delay = max(0.0, time.time() - event.received_at_ms / 1000)
            for listener in self.delivery_listeners:
                listener(delay)

    def close_later(self, closing: Any) -> None:
        """Run a connection's close beside the feed (it waits while the socket is full)."""
        task = asyncio.create_task(closing)
        self._closing.add(task)
        task.add_done_callback(self._closing.discard)


async def follow_events(
    info: Info, filter: EventFilter | None, after_position: int | None
) -> AsyncGenerator[Event, None]:
    """eventAppended: stored matching events after `after_position` (if given), then
    every new one as it is appended, without a gap or a repeat at the seam."""
    feed: LiveFeed = info.context.feed
    connection = info.context.request
    settings = feed.settings

    def fell_behind() -> None:
        reason = (
            f"subscriber fell behind: over COURSEGRAPH_LIVE_QUEUE_EVENTS="
            f"{settings.live_queue_events} events undelivered"
        )
        if isinstance(connection, WebSocket):
            feed.close_later(_close(connection, reason))

    # Join the feed and take its newest known position in one step (no await between):
    # the feed brings everything after it, the log replays what is asked for up to it.
    subscriber = feed.subscribe(LiveFilter.of(filter), id(connection), fell_behind)
    newest = feed.newest_position
    try:
        seen = newest if after_position is None else after_position
        if seen < newest:  # replay (seen, newest] from the log; the feed has the rest
            query = event_query(filter, await course_scope(info, filter, None))
            while True:
                rows = await read.page_events(
                    feed.store, query, after_cursor_position=seen, limit=PAGE_EVENTS
                )
                for row in rows:
                    if row.position > newest:
                        break
                    seen = row.position
                    yield Event.from_stored(row)
                if len(rows) < PAGE_EVENTS or rows[-1].position >= newest:
                    break
            seen = max(seen, newest)
        while True:
            await subscriber.ready.wait()
            subscriber.ready.clear()
            if subscriber.fell_behind:
                return
            for event in subscriber.take():
                if event.position <= seen:
                    continue  # the replay, or the look at the newest position, had it
                seen = event.position
                yield Event.from_stored(event)
                feed.handed_over(event)
    finally:
        feed.unsubscribe(subscriber)


async def _close(connection: WebSocket, reason: str) -> None:
    with contextlib.suppress(Exception):
        await connection.close(code=FELL_BEHIND_CLOSE_CODE, reason=reason)


def subscription_over_http(request: Request) -> GraphQLError:
    """A subscription sent over plain HTTP: a request error that says where to go."""
    endpoint = str(request.url.replace(query="", fragment="")).replace("http", "ws", 1)
    return coded_error(
        f"subscriptions are served over WebSocket: connect to {endpoint} "
        "with the graphql-transport-ws protocol",
        ErrorCode.VALIDATION_FAILED,
    )
