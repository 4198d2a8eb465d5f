"""One frozen Settings object, read from COURSEGRAPH_* variables (or a .env file)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import field_validator
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
    # GET /dashboard: the course dashboard (its chart library comes from the same folder).
    dashboard: bool = True
    # Course.activity answers at most this many buckets (ten years of days).
    analytics_max_buckets: int = 3660
    # ScoreStatistics.histogram(bins:) accepts 1 to this many bins.
    analytics_max_bins: int = 100

    @field_validator("ingest_tokens", "api_tokens", "cors_origins", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        return _split_commas(value)
