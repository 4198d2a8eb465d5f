"""Small accessors that read both Caliper styles the same way."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)

_ACTION_SYNONYMS = {
    "Create": "Created",
    "Update": "Modified",
    "Updated": "Modified",
    "Modify": "Modified",
    "Delete": "Deleted",
}


def present(value: Any) -> bool:
    """A key whose value is null or {} counts as not found."""
    return value is not None and value != {} and value != ""


def ref_id(value: Any) -> str | None:
    """The IRI of a reference: a plain IRI string, or an object's `id`/`@id`."""
    if isinstance(value, str):
        return value or None
    if isinstance(value, dict):
        found = value.get("id")
        if found is None:
            found = value.get("@id")
        return found if isinstance(found, str) and found else None
    return None


def type_of(value: Any) -> str | None:
    """`type` or `@type` of an object, as sent."""
    if not isinstance(value, dict):
        return None
    found = value.get("type")
    if found is None:
        found = value.get("@type")
    return found if isinstance(found, str) else None


def short_name(iri: str) -> str:
    """Text after the last `/` (types) — `…/caliper/v1/ContentEvent` → `ContentEvent`."""
    return iri.rstrip("/").rsplit("/", 1)[-1]


def short_type(value: Any) -> str | None:
    full = type_of(value)
    return short_name(full) if full else None


def short_action(action: str) -> str:
    """`…/action#GradeCalculated` → `GradeCalculated`; Create → Created, Update → Modified…"""
    word = action.rsplit("#", 1)[-1] if "#" in action else short_name(action)
    return _ACTION_SYNONYMS.get(word, word)


def extensions(value: Any) -> dict[str, Any]:
    if isinstance(value, dict):
        found = value.get("extensions")
        if isinstance(found, dict):
            return found
    return {}


def last_segment(iri: str | None) -> str | None:
    if not iri:
        return None
    segment = iri.rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def parse_time_ms(value: Any) -> int | None:
    """ISO-8601 → milliseconds since the epoch (UTC). No offset means UTC. The instant
    may lie outside years 1-9999 in UTC (9999-12-31T23:59-01:00): see usable_time_ms."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - EPOCH) // _ONE_MS


def format_time_ms(ms: int) -> str:
    """Milliseconds since the epoch → `2021-01-05T14:50:29.906Z`. An instant outside
    years 1-9999 (only an event stored before ingest checked times holds one) is written
    in the expanded form ECMAScript and ISO 8601 use, `+010000-01-01T00:59:59.999Z`,
    so that one stored value can never fail a page that serves it."""
    if MIN_TIME_MS <= ms <= MAX_TIME_MS:
        moment = EPOCH + timedelta(milliseconds=ms)
        # Not strftime: its %Y writes year 1 as "1" on glibc.
        return (
            f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T{moment.hour:02d}:"
            f"{moment.minute:02d}:{moment.second:02d}.{ms % 1000:03d}Z"
        )
    days, in_day = divmod(ms, 86_400_000)
    year, month, day = _civil_from_days(days)
    seconds, millis = divmod(in_day, 1000)
    clock = f"{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}.{millis:03d}"
    return f"{'-' if year < 0 else '+'}{abs(year):06d}-{month:02d}-{day:02d}T{clock}Z"


def _civil_from_days(days: int) -> tuple[int, int, int]:
    """Days since 1970-01-01 → proleptic Gregorian (year, month, day), any year
    (H. Hinnant's days_from_civil inverse: whole 400-year eras, then the day of the era)."""
    days += 719_468
    era = days // 146_097
    day_of_era = days - era * 146_097
    year_of_era = (
        day_of_era - day_of_era // 1460 + day_of_era // 36_524 - day_of_era // 146_096
    ) // 365
    day_of_year = day_of_era - (365 * year_of_era + year_of_era // 4 - year_of_era // 100)
    shifted_month = (5 * day_of_year + 2) // 153
    day = day_of_year - (153 * shifted_month + 2) // 5 + 1
    month = shifted_month + 3 if shifted_month < 10 else shifted_month - 9
    return year_of_era + era * 400 + (month <= 2), month, day


# --- values the folds compute from, and the ranges they must lie in ---------------------
#
# The folds read numbers and instants through as_float, as_int and as_time_ms; the reader
# checks every such value with the same functions before an event is stored, so what a
# fold reads is what ingest accepted. A value that cannot be read at all (text that is
# not a number) is None: it says nothing. A value that reads but cannot be served raises
# UnusableValue: ingest rejects its item, and a fold of an event stored before these
# checks fails for that one entity only.

# Instants DateTime serves: years 1-9999 in UTC.
MIN_TIME_MS = (datetime(1, 1, 1, tzinfo=UTC) - EPOCH) // _ONE_MS
MAX_TIME_MS = (datetime(9999, 12, 31, 23, 59, 59, 999_000, tzinfo=UTC) - EPOCH) // _ONE_MS
# Scores and other decimals: far beyond any grade, and exact to the cent in a double.
MAX_DECIMAL = 1e15
# Counts and versions are served as GraphQL Int: signed 32-bit.
MAX_GRAPHQL_INT = 2**31 - 1


class UnusableValue(ValueError):
    """A value that reads as a number or an instant but lies outside what is served."""


def as_float(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            found = float(value)
        except ValueError:
            return None
    elif isinstance(value, (int, float)):
        try:
            found = float(value)
        except OverflowError:
            raise UnusableValue(f"the number {_digits(value)} is beyond ±1e15") from None
    else:
        return None
    if not abs(found) <= MAX_DECIMAL:  # also NaN
        raise UnusableValue(f"the number {_digits(value)} is beyond ±1e15")
    return found


def as_int(value: Any) -> int | None:
    """A count or a version: within GraphQL Int's range."""
    found = _integral(value)
    if found is not None and abs(found) > MAX_GRAPHQL_INT:
        raise UnusableValue(
            f"the integer {_digits(found)} is beyond GraphQL Int's range (±{MAX_GRAPHQL_INT})"
        )
    return found


def as_time_ms(value: Any) -> int | None:
    """An ISO-8601 text, or a number already in epoch milliseconds; years 1-9999 in UTC."""
    found = parse_time_ms(value) if isinstance(value, str) else _integral(value)
    if found is not None and not MIN_TIME_MS <= found <= MAX_TIME_MS:
        raise UnusableValue(f"the instant {value!r:.60} lies outside years 1-9999 in UTC")
    return found


def _integral(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:  # not an integer, or beyond Python's 4,300 digits
            return None
    return None


def _digits(value: Any) -> str:
    """A number for a message, short: a huge integer by its length (str() of one beyond
    4,300 digits would raise)."""
    if isinstance(value, int) and value.bit_length() > 64:
        return f"of {int(value.bit_length() * 0.30103) + 1} digits"
    return f"{value!r:.40}"
