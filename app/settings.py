"""One frozen Settings object, read from COURSEGRAPH_* variables (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent

# Served to any Host when no allow-list is set and no API token protects the API.
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]")


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


def _tokens(value: object, variable: str) -> object:
    """A token list that is set must hold real tokens: `","` or `" "` would otherwise read
    as "no tokens", which for the API means open to everyone."""
    if isinstance(value, str):
        if not value:
            return ()  # `VAR=` is how many deployments leave a variable unset
        parts = [part.strip() for part in value.split(",")]
        if not all(parts):
            raise ValueError(
                f"{variable} holds an empty token (check for stray commas or spaces); "
                "give comma-separated tokens, or unset it"
            )
        return tuple(parts)
    if isinstance(value, list | tuple):
        if not all(isinstance(part, str) and part.strip() for part in value):
            raise ValueError(f"{variable} holds an empty token")
        return tuple(part.strip() for part in value)
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COURSEGRAPH_", env_file=".env", frozen=True, extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./coursegraph.db"
    ingest_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    api_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    # `serve` on a non-loopback address without API tokens starts only with this.
    allow_anonymous: bool = False
    # Host names (optionally with :port) that may reach /graphql, GraphiQL, /metrics and
    # /dashboard; unset: loopback names only without API tokens, any host with them.
    allowed_hosts: Annotated[tuple[str, ...], NoDecode] | None = None
    graphiql: bool = True
    introspection: bool = True
    max_body_bytes: int = 10_485_760
    # Slow bodies: a request body not received within this many seconds is refused.
    body_read_timeout_seconds: float = 15.0
    # GraphQL request limits, each checked before anything runs (QUERY_TOO_COMPLEX).
    max_query_chars: int = 50_000
    max_query_tokens: int = 5_000
    max_query_depth: int = 20
    max_query_aliases: int = 30
    max_query_cost: int = 50_000
    max_as_of_values: int = 10
    # Wall-clock budget of one GraphQL request; past it the request ends and its work stops.
    request_budget_seconds: float = 20.0
    # Parsed and validated query texts kept, bounded by the bytes of their text.
    query_cache_bytes: int = 4_194_304
    # Values computed from the log (folded course entities, course and person states,
    # analytics), kept per worker while no new event touches them; bounded by an estimate
    # of the bytes they hold (app.api.state_cache.estimate_bytes).
    cache_bytes: int = 67_108_864
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # A WebSocket that sends no connection_init within this many seconds is closed (4408).
    connection_init_wait_timeout: float = 10.0
    # /healthz: how long the database may take to answer, and the free space the SQLite
    # database's file system must keep (a full disk fails every append).
    health_timeout: float = 5.0
    health_min_free_bytes: int = 8_388_608
    # Where `make demo` installs GraphiQL's JavaScript and CSS for offline use.
    graphiql_assets_dir: Path = REPO_ROOT / "node_modules"
    # Live subscriptions: limits, and how often a worker looks for appends nobody told it
    # about (SQLite written by another process; PostgreSQL while LISTEN is down).
    live_subscriptions_per_connection: int = Field(default=100, ge=1)
    live_subscriptions_per_worker: int = Field(default=10_000, ge=1)
    live_queue_events: int = Field(default=1_000, ge=1)
    live_poll_seconds: float = Field(default=2.0, gt=0)
    # Automatic persisted queries (Apollo's protocol); "allowlist" runs only the documents
    # of graphql/operations/ and of persisted_queries_dir; "off" answers
    # PersistedQueryNotSupported so clients stop sending hashes.
    persisted_queries: Literal["automatic", "allowlist", "off"] = "automatic"
    persisted_queries_dir: Path | None = None
    # Query texts kept per worker for automatic persisted queries (least recently used go).
    persisted_queries_max_bytes: int = 4_194_304
    # GET /dashboard: the course dashboard (its chart library comes from the same folder).
    dashboard: bool = True
    # `coursegraph ingest` commits about this many bytes of events' JSON per transaction
    # (at most app.ingest.BATCH_EVENTS events): each transaction rewrites every index page
    # it touches, so larger ones write fewer bytes per event; a batch holds ~10x this in
    # memory while it is read and stored.
    ingest_batch_bytes: int = 10_485_760
    # POST /caliper: requests that arrive while an append commits wait and are appended
    # together in one transaction of at most this many events, entity descriptions and
    # rejected items (a larger request goes alone); one commit per request is the limit
    # of a worker's rate otherwise.
    caliper_group_items: int = 2_000
    # Course.activity answers at most this many buckets (ten years of days).
    analytics_max_buckets: int = 3660
    # ScoreStatistics.histogram(bins:) accepts 1 to this many bins.
    analytics_max_bins: int = 100

    @field_validator(
        "max_body_bytes",
        "body_read_timeout_seconds",
        "max_query_chars",
        "max_query_tokens",
        "max_query_depth",
        "max_query_aliases",
        "max_query_cost",
        "max_as_of_values",
        "request_budget_seconds",
        "query_cache_bytes",
        "cache_bytes",
        "connection_init_wait_timeout",
        "health_timeout",
        "ingest_batch_bytes",
        "caliper_group_items",
    )
    @classmethod
    def _positive(cls, value: float, info: ValidationInfo) -> float:
        if value <= 0:
            raise ValueError(f"COURSEGRAPH_{str(info.field_name).upper()} must be above 0")
        return value

    @field_validator("cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("allowed_hosts", mode="before")
    @classmethod
    def _host_list(cls, value: object) -> object:
        if isinstance(value, str) and not value.strip():
            return None
        value = _split_commas(value)
        if isinstance(value, tuple):
            return tuple(host.lower() for host in value)
        return value

    @field_validator("ingest_tokens", mode="before")
    @classmethod
    def _ingest_tokens(cls, value: object) -> object:
        return _tokens(value, "COURSEGRAPH_INGEST_TOKENS")

    @field_validator("api_tokens", mode="before")
    @classmethod
    def _api_tokens(cls, value: object) -> object:
        return _tokens(value, "COURSEGRAPH_API_TOKENS")

    @property
    def effective_allowed_hosts(self) -> tuple[str, ...] | None:
        """The Host names the API answers; None: any."""
        if self.allowed_hosts is not None:
            return self.allowed_hosts
        return None if self.api_tokens else LOOPBACK_HOSTS
