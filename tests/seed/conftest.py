"""One generated semester per test session: generation takes about a second."""

from __future__ import annotations

from typing import Any

import pytest

from seed.generator import Semester, generate_semester, local_ms
from seed.truth import GroundTruth

# Monday of week 8, midnight on campus: units 4 and 5, the final project and the
# final exam do not exist yet; renames and a study group's deletion come later.
MID_SEMESTER_MS = local_ms(2026, 10, 12)


@pytest.fixture(scope="session")
def semester() -> Semester:
    return generate_semester()


@pytest.fixture(scope="session")
def truth(semester: Semester) -> GroundTruth:
    return semester.truth


@pytest.fixture(scope="session")
def events(semester: Semester) -> list[dict[str, Any]]:
    """Every event as it arrived, replayed copies included."""
    return [event for envelope in semester.envelopes for event in envelope["data"]]
