"""Prometheus metrics: one registry per app (app.state.metrics), so several apps in one
process never share counters. Every worker answers /metrics for itself.

Label values are bounded: routes are the app's route paths, operation names those of the
known documents (others are "other", unnamed ones "anonymous"), rejection reasons a
handful of categories, error codes the contract's."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from app.api.errors import ErrorCode
from app.api.state_cache import StateCache
from store.append import AppendResult
from store.db import Store

ANONYMOUS = "anonymous"
OTHER = "other"
# Seconds: from a fast cached answer to a request that ran into its time budget.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DELAY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_KNOWN_CODES = frozenset(str(code) for code in ErrorCode)
# (words in a rejected item's reason, its category): the first match wins.
_REASON_CATEGORIES = (
    ("expected an event object", "not_an_object"),
    ("has no", "missing_field"),
    ("out of range", "out_of_range"),
    ("too large", "out_of_range"),
    ("too long", "out_of_range"),
    ("nest", "too_deep"),
    ("deep", "too_deep"),
)


def reason_category(reason: str) -> str:
    lowered = reason.lower()
    for words, category in _REASON_CATEGORIES:
        if words in lowered:
            return category
    return "invalid_value"


class _PoolCollector(Collector):
    """Database connections in use, read at scrape time."""

    def __init__(self, engines: Callable[[], dict[str, Any]]) -> None:
        self._engines = engines

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "coursegraph_db_pool_checked_out",
            "Database connections checked out of the pool",
            labels=["pool"],
        )
        for name, engine in self._engines().items():
            checked_out = getattr(engine.pool, "checkedout", None)
            if checked_out is not None:
                family.add_metric([name], checked_out())
        yield family

    def describe(self) -> Iterable[GaugeMetricFamily]:
        return []


class _StateCacheCollector(Collector):
    """The shared state cache's hits, misses, evictions and bytes, read at scrape time."""

    def __init__(self, cache: Callable[[], StateCache | None]) -> None:
        self._cache = cache

    def collect(self) -> Iterator[Metric]:
        cache = self._cache()
        if cache is None:
            return
        counted = (
            ("hits", "Lookups answered from the state cache", cache.hits),
            ("misses", "Lookups the state cache could not answer", cache.misses),
            ("evictions", "Values dropped to stay within COURSEGRAPH_CACHE_BYTES", cache.evictions),
        )
        for name, text, number in counted:
            yield CounterMetricFamily(f"coursegraph_state_cache_{name}", text, value=number)
        yield GaugeMetricFamily(
            "coursegraph_state_cache_bytes",
            "Estimated bytes the state cache holds",
            value=cache.bytes,
        )
        yield GaugeMetricFamily(
            "coursegraph_state_cache_entries", "Values the state cache holds", value=len(cache)
        )

    def describe(self) -> Iterable[Metric]:
        return []


class Metrics:
    def __init__(self, operation_names: frozenset[str]) -> None:
        self.operation_names = operation_names
        self.registry = registry = CollectorRegistry(auto_describe=True)
        self.events_appended = Counter(
            "coursegraph_events_appended",
            "Events stored through POST /caliper (conflicts included)",
            registry=registry,
        )
        self.events_duplicate = Counter(
            "coursegraph_events_duplicate",
            "Events received again with the same id and content (not stored)",
            registry=registry,
        )
        self.events_conflict = Counter(
            "coursegraph_events_conflict",
            "Events stored whose id was already stored with other content",
            registry=registry,
        )
        self.events_rejected = Counter(
            "coursegraph_events_rejected",
            "Items kept aside as rejected items, by reason category",
            ["reason"],
            registry=registry,
        )
        self.entity_descriptions = Counter(
            "coursegraph_entity_descriptions",
            "Entity descriptions received",
            registry=registry,
        )
        self.requests = Counter(
            "coursegraph_http_requests",
            "HTTP requests and WebSocket connections, by route, method and status",
            ["route", "method", "status"],
            registry=registry,
        )
        self.request_seconds = Histogram(
            "coursegraph_http_request_duration_seconds",
            "HTTP request duration by route",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.operations = Counter(
            "coursegraph_graphql_operations",
            "GraphQL operations by name and transport",
            ["operation", "transport"],
            registry=registry,
        )
        self.operation_seconds = Histogram(
            "coursegraph_graphql_operation_duration_seconds",
            "GraphQL query and mutation duration by name",
            ["operation"],
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.graphql_errors = Counter(
            "coursegraph_graphql_errors",
            "Errors in GraphQL responses by extensions.code",
            ["code"],
            registry=registry,
        )
        self.live_subscriptions = Gauge(
            "coursegraph_live_subscriptions",
            "Subscriptions open on this worker",
            registry=registry,
        )
        self.delivery_delay = Histogram(
            "coursegraph_live_delivery_delay_seconds",
            "From an event's commit to its delivery to a subscriber",
            buckets=DELAY_BUCKETS,
            registry=registry,
        )
        self._engines: dict[str, Any] = {}
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._operation_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        registry.register(_PoolCollector(lambda: self._engines))
        self._state_cache: StateCache | None = None
        registry.register(_StateCacheCollector(lambda: self._state_cache))

    # --- hooks ------------------------------------------------------------------------

    def watch_store(self, store: Store) -> None:
        """The store's connection pools are read at each scrape."""
        if store.reader is store.writer:
            self._engines = {"shared": store.reader}
        else:
            self._engines = {"reader": store.reader, "writer": store.writer}

    def watch_state_cache(self, cache: StateCache) -> None:
        """The state cache's counters are read at each scrape."""
        self._state_cache = cache

    def watch_subscriptions(self, count: Callable[[], int]) -> None:
        """Live subscriptions are read at each scrape from their one count (the feed's)."""
        self.live_subscriptions.set_function(count)

    def appended(self, result: AppendResult) -> None:
        self.events_appended.inc(result.appended)
        self.events_duplicate.inc(result.duplicates)
        self.events_conflict.inc(result.conflicts)
        self.entity_descriptions.inc(result.entities)
        for item in result.rejected:
            self.events_rejected.labels(reason_category(item.get("reason", ""))).inc()

    def request_finished(self, route: str, method: str, status: int, seconds: float | None) -> None:
        """`seconds` None: counted, but a long-lived connection is no latency sample."""
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:  # labels() validates and locks on every call: once per key
            children = self._request_children[key] = (
                self.requests.labels(route, method, str(status)),
                self.request_seconds.labels(route),
            )
        children[0].inc()
        if seconds is not None:
            children[1].observe(seconds)

    def operation_finished(
        self,
        name: str | None,
        transport: str,
        seconds: float | None,
        error_codes: Iterable[str],
    ) -> None:
        """`seconds` None: counted, but a subscription's lifetime is no latency sample."""
        label = self.operation_label(name)
        key = (label, transport)
        children = self._operation_children.get(key)
        if children is None:
            children = self._operation_children[key] = (
                self.operations.labels(label, transport),
                self.operation_seconds.labels(label),
            )
        children[0].inc()
        if seconds is not None:
            children[1].observe(seconds)
        for code in error_codes:
            self.graphql_errors.labels(code if code in _KNOWN_CODES else OTHER).inc()

    def delivered(self, delay_seconds: float) -> None:
        """One event handed to one subscriber, `delay_seconds` after it was committed."""
        self.delivery_delay.observe(max(0.0, delay_seconds))

    def operation_label(self, name: str | None) -> str:
        if not name:
            return ANONYMOUS
        return name if name in self.operation_names else OTHER
