"""Per-request context: the store and the DataLoaders every resolver goes through, so
a course query costs the same number of statements whatever the number of entities."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from app.api.errors import unreadable_entity
from app.api.query_cache import QueryCache
from app.api.state_cache import ByteLRU, StateCache
from app.caliper.model import (
    ATTEMPT,
    CALCULATED_GRADE,
    CONTENT,
    COURSE,
    GRADABLE_ITEM,
    GROUP,
    PERSON,
)
from app.observe import request_id
from app.projections.attempts import (
    AttemptState,
    GradableItemState,
    fold_attempt,
    fold_gradable_item,
)
from app.projections.calculated_grades import CalculatedGradeState, fold_calculated_grade
from app.projections.content_items import ContentItemState, fold_content_item
from app.projections.courses import CourseState, fold_course
from app.projections.groups import GroupState, fold_group
from app.projections.people import PersonState, fold_person
from app.settings import Settings
from graphql import GraphQLError
from store import read
from store.db import Store
from store.identity import current_identity, refreshed_identity
from store.read import EntitySummary

log = logging.getLogger("coursegraph.api")

State = TypeVar("State")
# How many of a course's or person's newest events to read for the fields nearly every
# event carries (name, learnId; externalId): the index gives the rest.
LATEST_EVENTS = {COURSE: 20, PERSON: 5}
# Past this many new positions since the last check, cached present states of a kind are
# dropped rather than checked one by one (reading what so many rows touched costs more).
CATCH_UP_POSITIONS = 20_000
# (entity key or course id, asOf in ms or None)
Key = tuple[str, int | None]


def created_at_ms(state: Any) -> int:
    """createdAt: the entity's first event's time (attempts: first grade; calculated
    grades: first snapshot)."""
    found = getattr(state, "created_at_ms", None)
    if found is None:
        times = [
            getattr(v, "graded_at_ms", None) or getattr(v, "calculated_at_ms", 0)
            for v in state.history
        ]
        found = min(times) if times else 0
    return found


def _by_created(states: list[Any]) -> list[Any]:
    states.sort(key=lambda state: (created_at_ms(state), state.id))
    return states


@dataclass(frozen=True, slots=True)
class Unreadable:
    """An entity whose stored events cannot be folded (stored before ingest checked every
    value a fold reads). Cached like a state, so its fold fails and is logged once; each
    request that meets it serves it as absent and reports one error naming it."""

    kind: str
    key: str


def contained(
    kind: str, fold: Callable[[str, Any], State | None]
) -> Callable[[str, Any], State | Unreadable | None]:
    """`fold`, with a failure kept to the one entity it folds."""

    def fold_one(key: str, events: Any) -> State | Unreadable | None:
        try:
            return fold(key, events)
        except Exception:
            log.exception("%s %s cannot be folded from its stored events", kind, key)
            return Unreadable(kind, key)

    return fold_one


def course_state(summary: EntitySummary) -> CourseState | None:
    state = fold_course(summary.key, summary.latest_events)
    if state is None:
        return None
    # The index knows the whole history; the fold saw only the newest events.
    return CourseState(
        id=state.id,
        course_number=summary.alt_key or state.course_number,
        learn_id=state.learn_id,
        name=state.name,
        created_at_ms=summary.first_event_ms,
        last_event_ms=summary.last_event_ms,
        last_event_position=summary.last_position,
    )


def person_state(summary: EntitySummary) -> PersonState | None:
    state = fold_person(summary.key, summary.latest_events)
    if state is None:
        return None
    return PersonState(
        id=state.id,
        user_id=summary.alt_key or state.user_id,
        external_id=state.external_id,
        last_event_ms=summary.last_event_ms,
        last_event_position=summary.last_position,
    )


@dataclass
class Context:
    store: Store
    settings: Settings
    feed: Any = None
    request: Any = None
    connection_params: dict[str, Any] | None = None
    query_cache: QueryCache | None = None
    # Values computed from the log, shared across requests: the app's (app.state.state_cache);
    # a context made without one gets one of its own.
    state_cache: StateCache | None = None
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    # Entities this request met but could not read, each reported once (app.api.unreadable).
    unreadable: dict[tuple[str, str], None] = field(default_factory=dict)
    # The store's identity as this operation first saw it (store.identity).
    identity: Hashable | None = None
    # The log's newest position as this operation first read it (one statement, however
    # many loaders stamp with it, also when they ask at once).
    log_position: asyncio.Future[int] | None = None

    def __post_init__(self) -> None:
        if self.state_cache is None:
            self.state_cache = StateCache(self.settings.cache_bytes)

    def note_unreadable(self, entity: Unreadable) -> None:
        self.unreadable[(entity.kind, entity.key)] = None

    def _readable(self, state: Any) -> Any:
        """A single entity's state; one that cannot be read is served as absent."""
        if isinstance(state, Unreadable):
            self.note_unreadable(state)
            return None
        return state

    def unreadable_errors(self) -> list[GraphQLError]:
        scope = getattr(self.request, "scope", None)
        found = request_id(scope) if scope is not None else None
        return [unreadable_entity(kind, key, found) for kind, key in self.unreadable]

    def for_operation(self) -> Context:
        """The same context with loaders of its own: a WebSocket's operations share one
        context, and cached answers must not outlive the operation that loaded them."""
        return replace(self, loaders={}, unreadable={}, identity=None, log_position=None)

    async def newest_position(self) -> int:
        """The log's newest position, read once an operation: a stamp for values that any
        new event may change. A value computed later in the operation can only be newer
        than its stamp, which makes the next operation refold, never serve it stale."""
        if self.log_position is None:
            self.log_position = asyncio.ensure_future(read.last_position(self.store))
        return await self.log_position

    # --- the shared cache: every key starts with the store's identity -----------------

    async def cache_key(self, *parts: Hashable) -> tuple[Hashable, ...]:
        """A key of the shared cache for this operation. Ask for it before reading the
        stamp: the first key of an operation checks which database the store reads (and
        reopens its connections when the file was replaced)."""
        if self.identity is None:
            self.identity = await refreshed_identity(self.store)
        return (self.identity, *parts)

    def _same_database(self, key: tuple[Hashable, ...]) -> bool:
        """Whether the store still reads the database the key was made for. Checked after
        the stamp or value was read: a database replaced in between must neither answer
        from the old one's values nor file its values under the old one's identity."""
        return key[0] == current_identity(self.store)

    @property
    def course_cache(self) -> ByteLRU:
        """The part of the shared cache for whole courses' folds and analytics."""
        assert self.state_cache is not None
        return self.state_cache.courses

    def cached(self, key: tuple[Hashable, ...], stamp: int) -> Any | None:
        """A course-wide value kept under `key` at exactly this stamp, or None."""
        if not self._same_database(key):
            return None
        return self.course_cache.get(key, stamp)

    def keep(self, key: tuple[Hashable, ...], stamp: int, value: Any) -> None:
        if self._same_database(key):
            self.course_cache.put(key, stamp, value)

    def kept_latest(self, key: tuple[Hashable, ...]) -> tuple[int, Any] | None:
        """(stamp, value) last kept under `key`, however stale."""
        if not self._same_database(key):
            return None
        return self.course_cache.latest(key)

    def _loader(self, name: str, load: Callable[[list[Any]], Any]) -> DataLoader[Any, Any]:
        loader = self.loaders.get(name)
        if loader is None:
            loader = self.loaders[name] = DataLoader(load_fn=load)
        return loader

    # --- one course's entities, folded -----------------------------------------------

    def _course_entities(
        self, kind: str, fold: Callable[[str, Sequence[Any]], State | None]
    ) -> DataLoader[Key, list[State]]:
        fold_one = contained(kind, fold)

        async def load(keys: list[Key]) -> list[list[State]]:
            answers = []
            for course_id, as_of in keys:
                # The present is kept current incrementally (_refold_course), so the log's
                # newest position serves as its stamp: one lookup, however many entities.
                cache_key = await self.cache_key("course", kind, course_id, as_of)
                if as_of is None:
                    stamp = await self.newest_position()
                else:
                    stamp = await read.course_entities_stamp(self.store, course_id, kind)
                cached = self.cached(cache_key, stamp)
                if cached is None:
                    cached = await self._refold_course(kind, fold_one, course_id, as_of, cache_key)
                    self.keep(cache_key, stamp, cached)
                readable, unreadable = cached
                for entity in unreadable:
                    self.note_unreadable(entity)
                answers.append(readable)
            return answers

        return self._loader(f"course:{kind}", load)

    async def _refold_course(
        self,
        kind: str,
        fold_one: Callable[[str, Sequence[Any]], Any],
        course_id: str,
        as_of: int | None,
        cache_key: tuple[Any, ...],
    ) -> tuple[list[Any], list[Unreadable]]:
        """The course's `kind` entities folded, and those that cannot be read. The present
        (no asOf) refolds only what rows newer than the last fold touched: a new grade
        among 10,000 attempts costs one attempt's events, not all of them."""
        previous = self.kept_latest(cache_key) if as_of is None else None
        if previous is None:
            events = await read.events_of_course_entities(self.store, course_id, kind, as_of)
            states = {key: fold_one(key, history) for key, history in events.items()}
        else:
            since, (readable, unreadable) = previous
            states = {state.id: state for state in readable}
            states.update({entity.key: entity for entity in unreadable})
            touched = await read.entities_touched_after(self.store, kind, since)
            # Entities this course's fold holds, and those a new row puts in this course.
            changed = [key for key, course in touched if key in states or course == course_id]
            events = await read.events_of_entities(self.store, kind, changed)
            for key in changed:
                states[key] = fold_one(key, events.get(key, []))
        # A list leaves out an entity it cannot read, and says so in an error.
        return (
            _by_created(
                [
                    s
                    for s in states.values()
                    if s is not None and not isinstance(s, Unreadable) and s.course_id == course_id
                ]
            ),
            [s for s in states.values() if isinstance(s, Unreadable)],
        )

    def course_groups(self) -> DataLoader[Key, list[GroupState]]:
        return self._course_entities(GROUP, fold_group)

    def course_content_items(self) -> DataLoader[Key, list[ContentItemState]]:
        return self._course_entities(CONTENT, fold_content_item)

    def course_attempts(self) -> DataLoader[Key, list[AttemptState]]:
        return self._course_entities(ATTEMPT, fold_attempt)

    def course_calculated_grades(self) -> DataLoader[Key, list[CalculatedGradeState]]:
        return self._course_entities(CALCULATED_GRADE, fold_calculated_grade)

    # --- single entities by key, batched ------------------------------------------

    def _stamped(
        self,
        name: str,
        kind: str,
        compute: Callable[[list[str], int | None], Awaitable[dict[str, State | None]]],
    ) -> DataLoader[Key, State | None]:
        """A batched loader whose answers are also kept in the shared cache while no new
        event touches the entity; `compute` fetches and builds only what the cache lacks."""

        async def load(keys: list[Key]) -> list[State | None]:
            assert self.state_cache is not None
            cache = self.state_cache.entities
            prefix = await self.cache_key(name)
            found: dict[Key, State | None] = {}
            missing: dict[int | None, list[str]] = {}
            present = [key for key, as_of in keys if as_of is None]
            if present:
                # The present: one look at what rows since the last check touched, instead
                # of each entity's newest position.
                newest = await self.newest_position()
                await self._catch_up(prefix, kind, newest)
            past = [key for key, as_of in keys if as_of is not None]
            stamps = await read.entity_stamps(self.store, kind, past) if past else {}
            # One identity check a batch, not one a key (a stat() each on SQLite).
            usable = self._same_database(prefix)
            for key, as_of in keys:
                cached = None
                if usable and as_of is None:
                    cached = cache.get_current(prefix, key)
                elif usable:
                    cached = cache.get((*prefix, key, as_of), stamps.get(key, 0))
                if cached is not None:
                    found[(key, as_of)] = cached
                else:
                    missing.setdefault(as_of, []).append(key)
            for as_of, entity_keys in missing.items():
                computed = await compute(entity_keys, as_of)
                usable = usable and self._same_database(prefix)
                for key in entity_keys:
                    state = found[(key, as_of)] = computed.get(key)
                    if state is None or not usable:
                        continue
                    if as_of is None:
                        cache.put_current(prefix, key, newest, state)
                    else:
                        cache.put((*prefix, key, as_of), stamps.get(key, 0), state)
            return [self._readable(found[key]) for key in keys]

        return self._loader(name, load)

    async def _catch_up(self, namespace: tuple[Hashable, ...], kind: str, newest: int) -> None:
        """Bring the cached present states of `kind` up to position `newest`: drop those
        of the entities that rows since the last check touched (or all of them after a
        long gap, or the first time)."""
        assert self.state_cache is not None
        cache = self.state_cache.entities
        checked = cache.checked_through(namespace)
        if checked is not None and checked >= newest:
            return
        if checked is None or newest - checked > CATCH_UP_POSITIONS:
            cache.catch_up(namespace, newest, None)
            return
        touched = await read.entities_touched_after(self.store, kind, checked)
        cache.catch_up(namespace, newest, [key for key, _course in touched])

    def _entities(
        self, kind: str, fold: Callable[[str, Sequence[Any]], State | None]
    ) -> DataLoader[Key, State | None]:
        fold_one = contained(kind, fold)

        async def compute(keys: list[str], as_of: int | None) -> dict[str, Any]:
            events = await read.events_of_entities(self.store, kind, keys, as_of)
            return {key: fold_one(key, history) for key, history in events.items()}

        return self._stamped(f"entity:{kind}", kind, compute)

    def groups(self) -> DataLoader[Key, GroupState | None]:
        return self._entities(GROUP, fold_group)

    def content_items(self) -> DataLoader[Key, ContentItemState | None]:
        return self._entities(CONTENT, fold_content_item)

    def attempts(self) -> DataLoader[Key, AttemptState | None]:
        return self._entities(ATTEMPT, fold_attempt)

    def gradable_items(self) -> DataLoader[Key, GradableItemState | None]:
        return self._entities(GRADABLE_ITEM, fold_gradable_item)

    def _summaries(
        self, kind: str, build: Callable[[EntitySummary], State | None]
    ) -> DataLoader[Key, State | None]:
        build_one = contained(kind, lambda _key, summary: build(summary))

        async def compute(keys: list[str], as_of: int | None) -> dict[str, Any]:
            summaries = await read.entity_summaries(
                self.store, kind, keys, as_of, latest=LATEST_EVENTS[kind]
            )
            return {key: build_one(key, summary) for key, summary in summaries.items()}

        return self._stamped(f"summary:{kind}", kind, compute)

    def view_counts(self) -> DataLoader[Key, read.ViewCounts | None]:
        """Viewed / NavigatedTo counts per object, one statement per batch and asOf."""

        async def load(keys: list[Key]) -> list[read.ViewCounts | None]:
            by_as_of: dict[int | None, list[str]] = {}
            for key, as_of in keys:
                by_as_of.setdefault(as_of, []).append(key)
            found: dict[Key, read.ViewCounts] = {}
            for as_of, object_ids in by_as_of.items():
                counted = await read.view_counts(self.store, object_ids, as_of)
                found.update({(key, as_of): value for key, value in counted.items()})
            return [found.get(key) for key in keys]

        return self._loader("view_counts", load)

    def courses(self) -> DataLoader[Key, CourseState | None]:
        return self._summaries(COURSE, course_state)

    def people(self) -> DataLoader[Key, PersonState | None]:
        return self._summaries(PERSON, person_state)
