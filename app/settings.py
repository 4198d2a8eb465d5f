"""One frozen Settings object, read from COURSEGRAPH_* variables (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="COURSEGRAPH_", env_file=".env", frozen=True, extra="ignore"
    )

    database_url: str = "sqlite+aiosqlite:///./coursegraph.db"
    ingest_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    api_tokens: Annotated[tuple[str, ...], NoDecode] = ()
    graphiql: bool = True
    max_body_bytes: int = 10_485_760
    cors_origins: Annotated[tuple[str, ...], NoDecode] = ()
    # Where `make demo` installs GraphiQL's JavaScript and CSS for offline use.
    graphiql_assets_dir: Path = REPO_ROOT / "node_modules"
    # Live subscriptions: limits, and how often a worker looks for appends nobody told it
    # about (SQLite written by another process; PostgreSQL while LISTEN is down).
    live_subscriptions_per_connection: int = Field(default=100, ge=1)
    live_subscriptions_per_worker: int = Field(default=10_000, ge=1)
    live_queue_events: int = Field(default=1_000, ge=1)
    live_poll_seconds: float = Field(default=2.0, gt=0)

    @field_validator("ingest_tokens", "api_tokens", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)
