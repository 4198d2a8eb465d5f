from __future__ import annotations

from typing import Any

from app.projections.people import fold_person

from .factories import INSTRUCTOR, STUDENT, caliper_event, ms, node, stored


def named(minute: int, **ids: str) -> dict[str, Any]:
    """An event whose only person is the student, as its actor with `ids` as extensions."""
    actor = node("1.1", STUDENT, "Person", extensions=ids)
    return caliper_event("1.1", "ViewEvent", "Viewed", minute, "urn:x", actor=actor) | {
        "membership": None
    }


def test_nobody_without_events() -> None:
    assert fold_person(STUDENT, []) is None
    assert (
        fold_person(STUDENT, [stored(caliper_event("1.1", "ViewEvent", "Viewed", 1, "urn:x"), 1)])
        is None
    )


def test_ids_come_from_the_most_recent_event_that_carries_each() -> None:
    events = [
        stored(named(5, **{"bb:user.id": "_2_1"}), 1),
        stored(named(1, **{"bb:user.id": "_1_1", "bb:user.externalId": "jstudent"}), 2),
        stored(named(9), 3),
    ]

    person = fold_person(STUDENT, events)

    assert person is not None
    assert person.id == STUDENT
    assert person.user_id == "_2_1"
    assert person.external_id == "jstudent"
    assert (person.last_event_ms, person.last_event_position) == (ms(9), 3)


def test_a_member_named_by_iri_takes_the_memberships_ids() -> None:
    raw = caliper_event("1.0", "ViewEvent", "Viewed", 1, "urn:x")
    raw["membership"]["extensions"] = {"bb:user.id": "_7_1", "bb:user.externalId": "jwiseman"}

    person = fold_person(INSTRUCTOR, [stored(raw, 1)])

    assert person is not None
    assert (person.user_id, person.external_id) == ("_7_1", "jwiseman")
