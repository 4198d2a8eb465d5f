"""Per-request context: the store and the DataLoaders every resolver goes through, so
a course query costs the same number of statements whatever the number of entities."""

from __future__ import annotations

import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from strawberry.dataloader import DataLoader

from app.api.errors import unreadable_entity
from app.api.query_cache import QueryCache
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
from store.read import EntitySummary

log = logging.getLogger("coursegraph.api")

State = TypeVar("State")
# How many of a course's or person's newest events to read for the fields nearly every
# event carries (name, learnId; externalId): the index gives the rest.
LATEST_EVENTS = {COURSE: 20, PERSON: 5}
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


class StampedCache:
    """Values computed from the log, shared across requests while no new event touches
    what they were computed from (same newest position for those entities): paging
    through 10,000 attempts folds them once, and appends elsewhere keep a course's
    answers warm. A bounded LRU; every worker keeps its own."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[Any, ...], tuple[int, Any]] = OrderedDict()

    def get(self, key: tuple[Any, ...], stamp: int) -> Any | None:
        found = self._entries.get(key)
        if found is None or found[0] != stamp:
            return None
        self._entries.move_to_end(key)
        return found[1]

    def latest(self, key: tuple[Any, ...]) -> tuple[int, Any] | None:
        """(stamp, value) as last put, however stale: what an incremental update starts
        from."""
        return self._entries.get(key)

    def clear(self) -> None:
        self._entries.clear()

    def put(self, key: tuple[Any, ...], stamp: int, value: Any) -> None:
        self._entries[key] = (stamp, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.size:
            self._entries.popitem(last=False)


# Folded entity lists of whole courses, and course / person states.
FOLD_CACHE = StampedCache(64)
STATE_CACHE = StampedCache(50_000)
# Course analytics (activity points, participants' counts and roles), stamped with the
# course's newest position.
ANALYTICS_CACHE = StampedCache(256)


def forget_cached_state() -> None:
    """Empty every cache (tests that count statements start from nothing)."""
    FOLD_CACHE.clear()
    STATE_CACHE.clear()
    ANALYTICS_CACHE.clear()


@dataclass
class Context:
    store: Store
    settings: Settings
    feed: Any = None
    request: Any = None
    connection_params: dict[str, Any] | None = None
    query_cache: QueryCache | None = None
    loaders: dict[str, DataLoader[Any, Any]] = field(default_factory=dict)
    # Entities this request met but could not read, each reported once (app.api.unreadable).
    unreadable: dict[tuple[str, str], None] = field(default_factory=dict)

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
        return replace(self, loaders={}, unreadable={})

    @property
    def analytics_cache(self) -> StampedCache:
        return ANALYTICS_CACHE

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
                if as_of is None:
                    stamp = await read.last_position(self.store)
                else:
                    stamp = await read.course_entities_stamp(self.store, course_id, kind)
                cache_key = (self.store.url, kind, course_id, as_of)
                cached = FOLD_CACHE.get(cache_key, stamp)
                if cached is None:
                    cached = await self._refold_course(kind, fold_one, course_id, as_of, cache_key)
                    FOLD_CACHE.put(cache_key, stamp, cached)
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
        previous = FOLD_CACHE.latest(cache_key) if as_of is None else None
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
        """A batched loader whose answers are also kept in STATE_CACHE while no new
        event touches the entity; `compute` fetches and builds only what the cache lacks."""

        async def load(keys: list[Key]) -> list[State | None]:
            stamps = await read.entity_stamps(self.store, kind, [key for key, _ in keys])
            found: dict[Key, State | None] = {}
            missing: dict[int | None, list[str]] = {}
            for key, as_of in keys:
                stamp = stamps.get(key, 0)
                cached = STATE_CACHE.get((self.store.url, name, key, as_of), stamp)
                if cached is not None:
                    found[(key, as_of)] = cached
                else:
                    missing.setdefault(as_of, []).append(key)
            for as_of, entity_keys in missing.items():
                computed = await compute(entity_keys, as_of)
                for key in entity_keys:
                    state = found[(key, as_of)] = computed.get(key)
                    if state is not None:
                        cache_key = (self.store.url, name, key, as_of)
                        STATE_CACHE.put(cache_key, stamps.get(key, 0), state)
            return [self._readable(found[key]) for key in keys]

        return self._loader(name, load)

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
