"""Caliper JSON as Blackboard Learn sends it, in both styles (design/caliper.md).

Caliper 1.0 style: `@id`/`@type`/`@context` keys, full IRI types and actions,
every key present with `null` for "not sent", references often plain IRI strings.
Caliper 1.1 style: `id`/`type`, short IMS types but full IRIs for Blackboard's
own types, bare-word actions, missing values left out, nested objects.

Every builder returns a fresh dict (no sub-object is shared between events), so
a consumer that mutates one event cannot change another.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

Style = Literal["1.0", "1.1"]
V10: Style = "1.0"
V11: Style = "1.1"

IMS_CONTEXT_V1 = "http://purl.imsglobal.org/ctx/caliper/v1/Context"
IMS_CONTEXT_V1P1 = "http://purl.imsglobal.org/ctx/caliper/v1p1"
BB_CONTEXT_V1 = "http://caliper.blackboard.com/ctx/caliper/v1/Context"
IMS_TYPE_V1 = "http://purl.imsglobal.org/caliper/v1/"
IMS_LIS_TYPE_V1 = "http://purl.imsglobal.org/caliper/v1/lis/"
BB_TYPE_V1 = "http://caliper.blackboard.com/caliper/v1/"
IMS_ACTION_V1 = "http://purl.imsglobal.org/vocab/caliper/v1/action#"
BB_ACTION_V1 = "http://caliper.blackboard.com/vocab/caliper/v1/action#"
LIS_ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
LIS_STATUS_ACTIVE = "http://purl.imsglobal.org/vocab/lis/v2/status#Active"

# Envelope dataVersion for Caliper 1.1 envelopes; 1.0 envelopes carry none.
DATA_VERSION_V1P1 = IMS_CONTEXT_V1P1

# Learn's Caliper 1.0 verbs for its own entity events (caliper.md: `…#Create`,
# `…#Updated`, `…#Delete`; groups use `…#Update`).
CONTENT_ACTIONS_V10 = {"Created": "Create", "Modified": "Updated", "Deleted": "Delete"}
GROUP_ACTIONS_V10 = {"Created": "Create", "Modified": "Update", "Deleted": "Delete"}


@dataclass(frozen=True, slots=True)
class PersonRef:
    iri: str
    user_id: str
    external_id: str


@dataclass(frozen=True, slots=True)
class CourseRef:
    iri: str
    learn_id: str
    course_number: str
    title: str


def bb_context_v11() -> list[str]:
    return [BB_CONTEXT_V1, IMS_CONTEXT_V1P1]


def _nulls_v10() -> dict[str, Any]:
    return {"name": None, "description": None, "extensions": {}}


class Wire:
    """Entity and event builders for one Learn site."""

    def __init__(self, site_uuid: str) -> None:
        self.site_uuid = site_uuid
        self.site_iri = f"https://caliper-mapping.cloudbb.blackboard.com/v1/sites/{site_uuid}"
        self.app_iri = f"{self.site_iri}/applications/learn"

    # --- IRIs -------------------------------------------------------------------------

    def user_iri(self, user_hex: str) -> str:
        return f"{self.site_iri}/users/{user_hex}"

    def course_iri(self, course_hex: str) -> str:
        return f"{self.site_iri}/courses/{course_hex}"

    def content_iri(self, learn_id: str) -> str:
        return f"{self.site_iri}/content/{learn_id}"

    def gradable_item_iri(self, learn_id: str) -> str:
        return f"{self.site_iri}/gradableItems/{learn_id}"

    def calculated_grade_iri(self, item_id: str, version: int) -> str:
        return f"{self.site_iri}/gradableItems/{item_id}/calculatedGrade/{version}"

    def session_iri(self, session_key: str) -> str:
        return f"{self.site_iri}/sessions/{session_key}"

    def forum_iri(self, forum_id: str) -> str:
        return f"{self.site_iri}/discussion/{forum_id}"

    def assessment_iri(self, content_id: str) -> str:
        return f"{self.site_iri}/assessments/{content_id}"

    @staticmethod
    def membership_iri(course: CourseRef, person: PersonRef) -> str:
        return f"{course.iri}/members/{person.iri.rsplit('/', 1)[-1]}"

    # --- entities -----------------------------------------------------------------------

    @staticmethod
    def user_extensions(person: PersonRef) -> dict[str, Any]:
        return {"bb:user.id": person.user_id, "bb:user.externalId": person.external_id}

    def person(self, person: PersonRef, style: Style) -> dict[str, Any]:
        if style == V11:
            return {"id": person.iri, "type": "Person", "extensions": self.user_extensions(person)}
        return {
            "@id": person.iri,
            "@context": IMS_CONTEXT_V1,
            "@type": IMS_LIS_TYPE_V1 + "Person",
            **_nulls_v10(),
            "extensions": self.user_extensions(person),
            "dateCreated": None,
            "dateModified": None,
        }

    def application(self, style: Style, extensions: dict[str, Any] | None = None) -> dict[str, Any]:
        if style == V11:
            node: dict[str, Any] = {"id": self.app_iri, "type": "SoftwareApplication"}
            if extensions is not None:
                node["extensions"] = extensions
            return node
        return {
            "@context": IMS_CONTEXT_V1,
            "@id": self.app_iri,
            "@type": IMS_TYPE_V1 + "SoftwareApplication",
            **_nulls_v10(),
            "extensions": extensions or {},
            "dateCreated": None,
            "dateModified": None,
        }

    @staticmethod
    def course(course: CourseRef, style: Style) -> dict[str, Any]:
        if style == V11:
            return {
                "id": course.iri,
                "type": "CourseOffering",
                "name": course.title,
                "extensions": {"bb:course.id": course.learn_id},
                "members": [],
                "courseNumber": course.course_number,
            }
        return {
            "@id": course.iri,
            "@context": IMS_CONTEXT_V1,
            "@type": IMS_LIS_TYPE_V1 + "CourseOffering",
            **_nulls_v10(),
            "extensions": {"bb:course.id": course.learn_id},
            "dateCreated": None,
            "dateModified": None,
            "courseNumber": course.course_number,
            "academicSession": None,
            "subOrganizationOf": None,
        }

    def membership(
        self, course: CourseRef, person: PersonRef, role: str, style: Style
    ) -> dict[str, Any]:
        extensions = {
            "bb:course.id": course.learn_id,
            "bb:course.externalId": course.course_number,
            **self.user_extensions(person),
        }
        if style == V11:
            return {
                "id": self.membership_iri(course, person),
                "type": "Membership",
                "extensions": extensions,
                "member": self.person(person, V11),
                "organization": self.course(course, V11),
                "roles": [role],
                "status": "Active",
            }
        return {
            "@context": IMS_CONTEXT_V1,
            "@id": self.membership_iri(course, person),
            "@type": IMS_LIS_TYPE_V1 + "Membership",
            **_nulls_v10(),
            "extensions": extensions,
            "dateCreated": None,
            "dateModified": None,
            "member": person.iri,
            "organization": course.iri,
            "roles": [LIS_ROLE + role],
            "status": LIS_STATUS_ACTIVE,
        }

    def federated_session(
        self, session_key: str, started: str, person: PersonRef
    ) -> dict[str, Any]:
        return {
            "startedAtTime": started,
            "id": self.session_iri(session_key),
            "type": "LtiSession",
            "name": session_key,
            "dateCreated": started,
            "user": self.person(person, V11),
        }

    def session_ref(self, session_key: str) -> dict[str, Any]:
        return {"id": self.session_iri(session_key), "type": "Session"}

    def _event_head(
        self, style: Style, event_type: str, event_id: str | None, bb_own_type: bool
    ) -> dict[str, Any]:
        """`@context`, type and id, as each style writes them for this event type."""
        if style == V11:
            head: dict[str, Any] = {
                "@context": bb_context_v11() if bb_own_type else IMS_CONTEXT_V1P1,
                "type": (BB_TYPE_V1 + event_type) if bb_own_type else event_type,
            }
            if event_id is not None:
                head["id"] = event_id
            return head
        head = {
            "@context": BB_CONTEXT_V1 if bb_own_type else IMS_CONTEXT_V1,
            "@type": (BB_TYPE_V1 if bb_own_type else IMS_TYPE_V1) + event_type,
        }
        if event_id is not None:
            head["@id"] = event_id
        return head

    # --- ContentEvent ------------------------------------------------------------------

    def content_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        action: str,
        actor: PersonRef,
        course: CourseRef,
        item_iri: str,
        sent_fields: dict[str, Any],
        changes: dict[str, tuple[Any, Any]] | None,
        event_time: str,
        session_key: str,
    ) -> dict[str, Any]:
        """`sent_fields` holds exactly the keys to send (1.1: None is an explicit null);
        for 1.0 it holds every field (None: null, "not sent"). `changes` (1.0 only) adds
        an UpdatedContentProperties diff as `generated`."""
        event = self._event_head(style, "ContentEvent", event_id, bb_own_type=True)
        if style == V11:
            obj: dict[str, Any] = {
                "@context": bb_context_v11(),
                "type": BB_TYPE_V1 + "Content",
                "id": item_iri,
                **sent_fields,
                "extensions": {},
            }
            event.update(
                actor=self.person(actor, V11),
                action=action,
                object=obj,
                eventTime=event_time,
                edApp=self.application(V11),
                membership=self.membership(course, actor, "Instructor", V11),
                federatedSession=self.federated_session(session_key, event_time, actor),
                extensions={},
                session=self.session_ref(session_key),
            )
            return event
        obj = {
            "@context": BB_CONTEXT_V1,
            "@type": BB_TYPE_V1 + "Content",
            "@id": item_iri,
            **sent_fields,
            "packageSignature": None,
            "contentContext": None,
        }
        generated = None
        if changes is not None:
            generated = {
                "@context": BB_CONTEXT_V1,
                "@type": BB_TYPE_V1 + "UpdatedContentProperties",
                "@id": f"{item_iri}/updatedProperties",
                **{key: {"oldValue": old, "newValue": new} for key, (old, new) in changes.items()},
            }
        event.update(
            actor=self.person(actor, V10),
            action=BB_ACTION_V1 + CONTENT_ACTIONS_V10[action],
            object=obj,
            target=None,
            generated=generated,
            eventTime=event_time,
            edApp=self.application(V10),
            group=None,
            membership=self.membership(course, actor, "Instructor", V10),
            federatedSession=self.session_iri(session_key),
        )
        return event

    # --- CourseGroupEvent -------------------------------------------------------------

    def group_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        action: str,
        actor: PersonRef,
        course: CourseRef,
        group_iri: str,
        group_extensions: dict[str, Any],
        event_extensions: dict[str, Any],
        added_member: tuple[str, str, PersonRef] | None,
        event_time: str,
        session_key: str,
    ) -> dict[str, Any]:
        """`added_member` (1.0 only): (membership id, user hex, person) for the MiniUser
        that Learn 1.0 puts in `generated`."""
        event = self._event_head(style, "CourseGroupEvent", event_id, bb_own_type=True)
        if style == V11:

            def group_node() -> dict[str, Any]:
                return {
                    "id": group_iri,
                    "type": "Group",
                    "extensions": dict(group_extensions),
                    "subOrganizationOf": self.course(course, V11),
                    "members": [],
                }

            event.update(
                actor=self.person(actor, V11),
                action=action,
                object=group_node(),
                eventTime=event_time,
                edApp=self.application(V11),
                group=group_node(),
                membership=self.membership(course, actor, "Instructor", V11),
                federatedSession=self.federated_session(session_key, event_time, actor),
                extensions=dict(event_extensions),
                session=self.session_ref(session_key),
            )
            return event

        def group_node_v10() -> dict[str, Any]:
            return {
                "@context": IMS_CONTEXT_V1,
                "@id": group_iri,
                "@type": IMS_LIS_TYPE_V1 + "Group",
                **_nulls_v10(),
                "extensions": dict(group_extensions),
                "dateCreated": None,
                "dateModified": None,
                "subOrganizationOf": self.course(course, V10),
            }

        generated = None
        if added_member is not None:
            membership_id, user_hex, person = added_member
            generated = {
                "@context": BB_CONTEXT_V1,
                "@type": BB_TYPE_V1 + "MiniUser",
                "@id": f"{self.site_iri}/minimalUser/Some({person.user_id})",
                "uuid": user_hex,
                "batchUid": person.external_id,
                "courseMembershipId": membership_id,
            }
        event.update(
            actor=self.person(actor, V10),
            action=BB_ACTION_V1 + GROUP_ACTIONS_V10[action],
            object=group_node_v10(),
            target=None,
            generated=generated,
            eventTime=event_time,
            edApp=self.application(V10),
            group=group_node_v10(),
            membership=self.membership(course, actor, "Instructor", V10),
            federatedSession=self.session_iri(session_key),
        )
        if event_extensions:
            event["extensions"] = dict(event_extensions)
        return event

    # --- GradeEvent (1.1) and OutcomeEvent (1.0) ---------------------------------------

    def assignable(
        self,
        *,
        gradable_iri: str,
        assessment: bool,
        max_score: float,
        max_attempts: int,
        date_to_submit: str | None,
        created: str,
    ) -> dict[str, Any]:
        node: dict[str, Any] = {}
        if date_to_submit is not None:
            node["dateToSubmit"] = date_to_submit
        node.update(
            maxAttempts=max_attempts,
            maxSubmits=max_attempts,
            maxScore=max_score,
            id=gradable_iri,
            type="Assessment" if assessment else "AssignableDigitalResource",
            dateCreated=created,
            creators=[],
            learningObjectives=[],
            keywords=[],
        )
        if assessment:
            node["items"] = []
        return node

    def grade_event(
        self,
        *,
        event_id: str | None,
        course: CourseRef,
        student: PersonRef,
        attempt_iri: str,
        attempt_count: int,
        started: str,
        assignable: dict[str, Any],
        score_given: float,
        action_name: str,
        content_id: str,
        provider_domain: str | None,
        event_time: str,
    ) -> dict[str, Any]:
        def attempt() -> dict[str, Any]:
            return {
                "startedAtTime": started,
                "id": attempt_iri,
                "type": "Attempt",
                "assignable": json.loads(json.dumps(assignable)),
                "assignee": self.person(student, V11),
                "count": attempt_count,
            }

        extensions = {"bb:action.name": action_name, "bb:content.id": content_id}
        if provider_domain is not None:
            extensions["bb:provider.domain"] = provider_domain
        event = self._event_head(V11, "GradeEvent", event_id, bb_own_type=False)
        event.update(
            actor=self.application(V11),
            action="Graded",
            object=attempt(),
            generated={
                "id": f"{attempt_iri}/score",
                "type": "Score",
                "dateCreated": event_time,
                "dateModified": event_time,
                "extensions": extensions,
                "attempt": attempt(),
                # Learn sends 0 here while the assignable carries the real maximum.
                "maxScore": 0,
                "scoreGiven": score_given,
                "scoredBy": self.application(V11),
            },
            eventTime=event_time,
            edApp=self.application(V11),
            group=self.course(course, V11),
            membership=self.membership(course, student, "Learner", V11),
            extensions={},
        )
        return event

    def outcome_event(
        self,
        *,
        course: CourseRef,
        student: PersonRef,
        attempt_iri: str,
        attempt_count: int,
        started: str,
        gradable_iri: str,
        normal_score: float,
        penalty_score: float,
        comment: str | None,
        event_time: str,
    ) -> dict[str, Any]:
        event = self._event_head(V10, "OutcomeEvent", None, bb_own_type=False)
        event.update(
            actor=self.person(student, V10),
            action=IMS_ACTION_V1 + "Graded",
            object={
                "@context": IMS_CONTEXT_V1,
                "@id": attempt_iri,
                "@type": IMS_TYPE_V1 + "Attempt",
                **_nulls_v10(),
                "dateCreated": None,
                "dateModified": None,
                "assignable": gradable_iri,
                "actor": student.iri,
                "count": attempt_count,
                "startedAtTime": started,
                "endedAtTime": None,
                "duration": None,
            },
            target=None,
            generated={
                "@context": IMS_CONTEXT_V1,
                "@id": f"{attempt_iri}/result",
                "@type": IMS_TYPE_V1 + "Result",
                **_nulls_v10(),
                "dateCreated": started,
                "dateModified": None,
                "assignable": gradable_iri,
                "actor": student.iri,
                "normalScore": normal_score,
                "penaltyScore": penalty_score,
                "extraCreditScore": 0.0,
                # Learn leaves the totals at 0.0 beside the real normalScore.
                "totalScore": 0.0,
                "curvedTotalScore": 0.0,
                "curveFactor": 0.0,
                "comment": comment,
                "scoredBy": self.application(V10),
            },
            eventTime=event_time,
            edApp=self.application(V10),
            group=self.course(course, V10),
            membership=self.membership(course, student, "Learner", V10),
            federatedSession=None,
        )
        return event

    # --- CalculatedGradeSnapshotEvent --------------------------------------------------

    def calculated_grade_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        course: CourseRef,
        student: PersonRef,
        item_id: str,
        version: int,
        score: float | None,
        score_possible: float,
        is_course_grade: bool,
        event_time: str,
    ) -> dict[str, Any]:
        event = self._event_head(style, "CalculatedGradeSnapshotEvent", event_id, bb_own_type=True)
        iri = self.calculated_grade_iri(item_id, version)
        if style == V11:
            obj: dict[str, Any] = {
                "@context": bb_context_v11(),
                "type": BB_TYPE_V1 + "CalculatedGrade",
                "id": iri,
                "name": "",
                "description": "",
                "itemId": item_id,
                "scorePossible": score_possible,
            }
            # 1.1 leaves `score` out while nothing is graded.
            if score is not None:
                obj["score"] = score
            obj.update(
                isCourseGrade=is_course_grade,
                syncVersion=version,
                user=self.person(student, V11),
                course=self.course(course, V11),
                extensions={},
            )
            event.update(
                actor=self.application(V11),
                action="Graded",
                object=obj,
                eventTime=event_time,
                edApp=self.application(V11),
                membership=self.membership(course, student, "Learner", V11),
                extensions={},
            )
            return event
        event.update(
            actor=self.application(V10),
            action=BB_ACTION_V1 + "GradeCalculated",
            object={
                "@context": BB_CONTEXT_V1,
                "@type": BB_TYPE_V1 + "CalculatedGrade",
                "@id": iri,
                "itemId": item_id,
                "scorePossible": score_possible,
                "score": score,
                "isCourseGrade": is_course_grade,
                "synVersion": version,
                "user": self.person(student, V10),
                "course": self.course(course, V10),
            },
            target=None,
            generated=None,
            eventTime=event_time,
            edApp=self.application(V10),
            group=None,
            membership=self.membership(course, student, "Learner", V10),
            federatedSession=None,
        )
        return event

    # --- the rest of the stream ------------------------------------------------------

    def session_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        action: str,
        person: PersonRef,
        session_key: str,
        started: str,
        user_agent: str,
        ip_address: str,
        event_time: str,
    ) -> dict[str, Any]:
        request = {
            "bb:request.headers.agent": user_agent,
            "bb:request.headers.ipAddress": ip_address,
        }
        event = self._event_head(style, "SessionEvent", event_id, bb_own_type=False)
        if style == V11:
            event.update(
                actor=self.person(person, V11),
                action=action,
                object=self.application(V11, request),
                target={
                    "id": self.site_iri,
                    "type": "DigitalResource",
                    "creators": [],
                    "learningObjectives": [],
                    "keywords": [],
                },
                eventTime=event_time,
                edApp=self.application(V11, dict(request)),
                federatedSession=self.federated_session(session_key, started, person),
                extensions={},
            )
            return event
        event.update(
            actor=self.person(person, V10),
            action=IMS_ACTION_V1 + action,
            object=self.application(V10, request),
            target=None,
            generated={
                "@id": self.session_iri(session_key),
                "@context": IMS_CONTEXT_V1,
                "@type": IMS_TYPE_V1 + "Session",
                "name": session_key,
                "description": None,
                "extensions": {},
                "dateCreated": started,
                "dateModified": None,
                "actor": self.person(person, V10),
                "startedAtTime": started,
                "endedAtTime": event_time if action == "LoggedOut" else None,
                "duration": None,
            },
            eventTime=event_time,
            edApp=self.application(V10),
            group=None,
            membership=None,
            federatedSession=None,
        )
        return event

    def view_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        person: PersonRef,
        course: CourseRef,
        item_iri: str,
        item_name: str | None,
        session_key: str,
        event_time: str,
    ) -> dict[str, Any]:
        event = self._event_head(style, "ViewEvent", event_id, bb_own_type=False)
        if style == V11:
            resource = {
                "id": item_iri,
                "type": "DigitalResource",
                "name": item_name or "",
                "creators": [],
                "learningObjectives": [],
                "keywords": [],
            }
            event.update(
                actor=self.person(person, V11),
                action="Viewed",
                object=resource,
                eventTime=event_time,
                edApp=self.application(V11),
                group=self.course(course, V11),
                membership=self.membership(course, person, "Learner", V11),
                session=self.session_ref(session_key),
                extensions={},
            )
            return event
        event.update(
            actor=self.person(person, V10),
            action=IMS_ACTION_V1 + "Viewed",
            object={
                "@context": IMS_CONTEXT_V1,
                "@id": item_iri,
                "@type": IMS_TYPE_V1 + "Frame",
                "name": item_name,
                "description": None,
                "extensions": {},
                "dateCreated": None,
                "dateModified": None,
                "isPartOf": None,
                "version": None,
                "index": 0,
            },
            target=None,
            generated=None,
            eventTime=event_time,
            edApp=self.application(V10),
            group=self.course(course, V10),
            membership=self.membership(course, person, "Learner", V10),
            federatedSession=self.session_iri(session_key),
        )
        return event

    def navigation_event(
        self,
        *,
        event_id: str | None,
        person: PersonRef,
        course: CourseRef,
        page: str,
        page_name: str,
        session_key: str,
        event_time: str,
    ) -> dict[str, Any]:
        event = self._event_head(V11, "NavigationEvent", event_id, bb_own_type=False)
        event.update(
            actor=self.person(person, V11),
            action="NavigatedTo",
            object={"id": f"{course.iri}/{page}", "type": "WebPage", "name": page_name},
            eventTime=event_time,
            edApp=self.application(V11),
            group=self.course(course, V11),
            membership=self.membership(course, person, "Learner", V11),
            session=self.session_ref(session_key),
            extensions={},
        )
        return event

    def forum_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        action: str,
        person: PersonRef,
        course: CourseRef,
        forum_id: str,
        forum_name: str,
        content_id: str,
        points: float,
        due: str | None,
        post_id: str,
        thread_id: str,
        length: int,
        first_post: bool,
        session_key: str,
        event_time: str,
    ) -> dict[str, Any]:
        forum_iri = self.forum_iri(forum_id)
        post_iri = f"{forum_iri}/post/{post_id}"
        event = self._event_head(style, "ForumEvent", event_id, bb_own_type=True)
        if style == V11:
            forum: dict[str, Any] = {
                "@context": bb_context_v11(),
                "type": BB_TYPE_V1 + "Forum",
                "id": forum_iri,
                "name": forum_name,
                "description": "",
                "threadPointsPossible": points,
            }
            if due is not None:
                forum["dueDate"] = due
            forum.update(isDiscussion=True, contentId=content_id, extensions={})
            event.update(
                actor=self.person(person, V11),
                action=action,
                object=forum,
                generated={
                    "@context": bb_context_v11(),
                    "type": BB_TYPE_V1 + "ForumPost",
                    "id": post_iri,
                    "name": "",
                    "description": "",
                    "parentId": thread_id,
                    "threadId": thread_id,
                    "fileAttached": False,
                    "length": length,
                    "anonymous": False,
                    "firstPost": first_post,
                    "extensions": {},
                },
                eventTime=event_time,
                edApp=self.application(V11),
                membership=self.membership(course, person, "Learner", V11),
                federatedSession=self.federated_session(session_key, event_time, person),
                extensions={},
                session=self.session_ref(session_key),
            )
            return event
        event.update(
            actor=self.person(person, V10),
            action=BB_ACTION_V1 + CONTENT_ACTIONS_V10[action],
            object={
                "@context": BB_CONTEXT_V1,
                "@type": BB_TYPE_V1 + "Forum",
                "@id": forum_iri,
                "name": forum_name,
                "description": None,
                "threadPointsPossible": points,
                "dueDate": due,
                "isDiscussion": True,
                "contentId": content_id,
            },
            target=None,
            generated={
                "@context": BB_CONTEXT_V1,
                "@type": BB_TYPE_V1 + "ForumPost",
                "@id": post_iri,
                "parentId": thread_id,
                "threadId": thread_id,
                "fileAttached": False,
                "length": length,
                "anonymous": False,
                "firstPost": first_post,
            },
            eventTime=event_time,
            edApp=self.application(V10),
            group=None,
            membership=self.membership(course, person, "Learner", V10),
            federatedSession=self.session_iri(session_key),
        )
        return event

    def assessment_event(
        self,
        *,
        style: Style,
        event_id: str | None,
        action: str,
        person: PersonRef,
        course: CourseRef,
        content_id: str,
        gradable_id: str,
        test_name: str,
        max_score: float,
        max_attempts: int,
        due: str | None,
        attempt_iri: str,
        attempt_count: int,
        started: str,
        session_key: str,
        event_time: str,
    ) -> dict[str, Any]:
        assessment_iri = self.assessment_iri(content_id)
        extensions = {"bb:contentId": content_id, "bb:assessment.gradeableItemId": gradable_id}
        event = self._event_head(style, "AssessmentEvent", event_id, bb_own_type=False)
        if style == V11:

            def assessment() -> dict[str, Any]:
                node: dict[str, Any] = {}
                if due is not None:
                    node["dateToSubmit"] = due
                node.update(
                    maxAttempts=max_attempts,
                    maxSubmits=max_attempts,
                    maxScore=max_score,
                    id=assessment_iri,
                    type="Assessment",
                    name=test_name,
                    extensions=dict(extensions),
                    creators=[],
                    learningObjectives=[],
                    keywords=[],
                    items=[],
                )
                return node

            event.update(
                actor=self.person(person, V11),
                action=action,
                object=assessment(),
                generated={
                    "startedAtTime": started,
                    "id": attempt_iri,
                    "type": "Attempt",
                    "assignable": assessment(),
                    "assignee": self.person(person, V11),
                    "count": attempt_count,
                },
                eventTime=event_time,
                edApp=self.application(V11),
                group=self.course(course, V11),
                membership=self.membership(course, person, "Learner", V11),
                session=self.session_ref(session_key),
                extensions={},
            )
            return event
        event.update(
            actor=self.person(person, V10),
            action=IMS_ACTION_V1 + action,
            object={
                "@context": IMS_CONTEXT_V1,
                "@id": assessment_iri,
                "@type": IMS_TYPE_V1 + "Assessment",
                "name": test_name,
                "description": None,
                "extensions": dict(extensions),
                "dateCreated": None,
                "dateModified": None,
                "dateToSubmit": due,
                "maxAttempts": max_attempts,
                "maxSubmits": max_attempts,
                "maxScore": max_score,
            },
            target=None,
            generated={
                "@context": IMS_CONTEXT_V1,
                "@id": attempt_iri,
                "@type": IMS_TYPE_V1 + "Attempt",
                "assignable": assessment_iri,
                "actor": person.iri,
                "count": attempt_count,
                "startedAtTime": started,
                "endedAtTime": event_time if action == "Submitted" else None,
                "duration": None,
            },
            eventTime=event_time,
            edApp=self.application(V10),
            group=self.course(course, V10),
            membership=self.membership(course, person, "Learner", V10),
            federatedSession=self.session_iri(session_key),
        )
        return event

    def tool_use_event(
        self,
        *,
        event_id: str | None,
        person: PersonRef,
        course: CourseRef,
        tool_name: str,
        tool_host: str,
        item_iri: str,
        session_key: str,
        event_time: str,
    ) -> dict[str, Any]:
        event = self._event_head(V11, "ToolUseEvent", event_id, bb_own_type=False)
        event.update(
            actor=self.person(person, V11),
            action="Used",
            object={
                "id": f"https://{tool_host}/",
                "type": "SoftwareApplication",
                "name": tool_name,
            },
            target={"id": item_iri, "type": "DigitalResource"},
            eventTime=event_time,
            edApp=self.application(V11),
            group=self.course(course, V11),
            membership=self.membership(course, person, "Learner", V11),
            session=self.session_ref(session_key),
            extensions={},
        )
        return event
