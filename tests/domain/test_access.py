"""The access policy (domain/access.py) as tables of cases.

Every case names the patient's age on "today" and what a proxy sees. Unless a case says
otherwise, now is 2026-03-04T15:00Z, which is 10:00 on 2026-03-04 in America/New_York (the
policy's zone), and grants started on 2020-01-01. tests/test_guards.py requires these
tests alone to cover every branch of domain/access.py.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from domain.access import (
    EVERY_CATEGORY,
    AccessDenied,
    AgePolicy,
    GrantFacts,
    NoteFilter,
    PatientContext,
    PatientGrant,
    Principal,
    access_demographics,
    access_own_record,
    access_patient,
    access_records_release,
    age_on,
    birthday,
    grant_allows,
    grant_state,
    may_announce_note,
    note_filter,
    note_withheld,
    patient_context,
    patient_contexts,
)
from domain.errors import BrokenInvariant
from domain.scopes import (
    AccessReason,
    GrantStatus,
    RecordArea,
    Relationship,
    Scope,
    SensitiveCategory,
)

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2026, 3, 4, 15, 0, tzinfo=UTC)  # 10:00 local
TODAY = date(2026, 3, 4)
STARTED = datetime(2020, 1, 1, tzinfo=UTC)

POLICY = AgePolicy()
ADOLESCENT_AT_13 = AgePolicy(adolescent_age=13)
ADOLESCENT_AT_14 = AgePolicy(adolescent_age=14)
NO_PARENT_ACCESS = AgePolicy(adolescent_parent_areas=frozenset())

ACCOUNT = "acc-proxy"
OWN_RECORD = "pat-proxy"
PATIENT = "pat-child"
EVERY_SCOPE = frozenset(Scope)

# What the default policy withholds from a parent of an adolescent, and what it leaves open.
CONFIDENTIAL = (
    RecordArea.RESULTS,
    RecordArea.MESSAGES,
    RecordArea.MEDICATIONS,
    RecordArea.PROBLEMS,
    RecordArea.READINGS,
    RecordArea.CLINICAL_NOTES,
    RecordArea.HEALTH_MAINTENANCE,
)
OPEN = (RecordArea.APPOINTMENTS, RecordArea.BILLING, RecordArea.ALLERGIES, RecordArea.IMMUNIZATIONS)

PARENT = Relationship.PARENT
GUARDIAN = Relationship.GUARDIAN
CAREGIVER = Relationship.CAREGIVER
WITHHELD = AccessReason.ADOLESCENT_CONFIDENTIAL

# (allowed, reason, changes_on, changes_to) of one area
Row = tuple[bool, AccessReason | None, date | None, bool | None]
Table = dict[RecordArea, Row]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def grant(
    born: date,
    relationship: Relationship = PARENT,
    *,
    patient_id: str = PATIENT,
    scopes: frozenset[Scope] = EVERY_SCOPE,
    status: GrantStatus = GrantStatus.ACTIVE,
    starts_at: datetime = STARTED,
    ends_at: datetime | None = None,
    opened: frozenset[SensitiveCategory] = frozenset(),
) -> GrantFacts:
    return GrantFacts(
        grant_id=f"grant-{patient_id}",
        patient_id=patient_id,
        relationship=relationship,
        scopes=scopes,
        status=status,
        starts_at=starts_at,
        ends_at=ends_at,
        patient_birth_date=born,
        opened_categories=opened,
    )


def proxy(*grants: GrantFacts, now: datetime = NOW, own: str | None = OWN_RECORD) -> Principal:
    return Principal(account_id=ACCOUNT, now=now, patient_id=own, grants=grants)


def table(context: PatientContext) -> Table:
    return {a.area: (a.allowed, a.reason, a.changes_on, a.changes_to) for a in context.access}


def rows(confidential: Row, open_: Row) -> Table:
    return {area: confidential if area in CONFIDENTIAL else open_ for area in RecordArea}


def every_area(row: Row) -> Table:
    return rows(row, row)


def allowed_until(day: date | None) -> Row:
    return (True, None, day, None if day is None else False)


def withheld(reason: AccessReason, regained_on: date | None = None) -> Row:
    return (False, reason, regained_on, None if regained_on is None else True)


# -- birthdays ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("born", "years", "expected"),
    [
        pytest.param(date(2014, 3, 4), 12, date(2026, 3, 4), id="ordinary"),
        pytest.param(date(2012, 2, 29), 12, date(2024, 2, 29), id="leap-day-in-a-leap-year"),
        pytest.param(date(2012, 2, 29), 14, date(2026, 3, 1), id="leap-day-else-1-march"),
        pytest.param(date(2012, 2, 29), 18, date(2030, 3, 1), id="leap-day-adulthood"),
    ],
)
def test_birthday(born: date, years: int, expected: date) -> None:
    assert birthday(born, years) == expected


@pytest.mark.parametrize(
    ("born", "day", "expected"),
    [
        pytest.param(date(2014, 3, 4), date(2026, 3, 3), 11, id="day-before-12th"),
        pytest.param(date(2014, 3, 4), date(2026, 3, 4), 12, id="12th-birthday"),
        pytest.param(date(2012, 2, 29), date(2024, 2, 28), 11, id="leap-28-feb-leap-year"),
        pytest.param(date(2012, 2, 29), date(2024, 2, 29), 12, id="leap-29-feb-leap-year"),
        pytest.param(date(2012, 2, 29), date(2026, 2, 28), 13, id="leap-28-feb-non-leap-year"),
        pytest.param(date(2012, 2, 29), date(2026, 3, 1), 14, id="leap-1-march-non-leap-year"),
    ],
)
def test_age_on(born: date, day: date, expected: int) -> None:
    assert age_on(born, day) == expected


# -- what each area allows, and when that changes --------------------------------------
AREA_CASES = [
    pytest.param(
        POLICY,
        grant(date(2016, 6, 10)),
        NOW,
        rows(allowed_until(date(2028, 6, 10)), allowed_until(date(2034, 6, 10))),
        id="parent-of-child-9-sees-all-until-12th-and-18th-birthdays",
    ),
    pytest.param(
        POLICY,
        grant(date(2016, 6, 10), GUARDIAN),
        NOW,
        rows(allowed_until(date(2028, 6, 10)), allowed_until(None)),
        id="guardian-of-child-9-open-areas-never-end",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 5)),
        NOW,
        rows(allowed_until(TODAY.replace(day=5)), allowed_until(date(2032, 3, 5))),
        id="parent-day-before-12th-birthday",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 4)),
        NOW,
        rows(withheld(WITHHELD), allowed_until(date(2032, 3, 4))),
        id="parent-on-12th-birthday",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 3)),
        NOW,
        rows(withheld(WITHHELD), allowed_until(date(2032, 3, 3))),
        id="parent-day-after-12th-birthday",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 4), GUARDIAN),
        NOW,
        rows(withheld(WITHHELD, date(2032, 3, 4)), allowed_until(None)),
        id="guardian-of-adolescent-regains-at-18",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 4), GUARDIAN, ends_at=utc("2030-01-01T05:00")),
        NOW,
        rows(withheld(WITHHELD), allowed_until(date(2030, 1, 1))),
        id="guardian-grant-ending-before-18-regains-nothing",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 4), GUARDIAN, ends_at=utc("2032-03-04T05:00")),
        NOW,
        rows(withheld(WITHHELD), allowed_until(date(2032, 3, 4))),
        id="guardian-grant-ending-as-18th-birthday-starts-regains-nothing",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 4), GUARDIAN, ends_at=utc("2032-03-04T17:00")),
        NOW,
        rows(withheld(WITHHELD, date(2032, 3, 4)), allowed_until(date(2032, 3, 4))),
        id="guardian-grant-ending-during-18th-birthday-regains-that-day",
    ),
    pytest.param(
        POLICY,
        grant(date(2008, 3, 5)),
        NOW,
        rows(withheld(WITHHELD), allowed_until(TODAY.replace(day=5))),
        id="parent-day-before-18th-birthday",
    ),
    pytest.param(
        POLICY,
        grant(date(2008, 3, 4), GUARDIAN),
        NOW,
        every_area(allowed_until(None)),
        id="guardian-on-18th-birthday-sees-all",
    ),
    pytest.param(
        POLICY,
        grant(date(2008, 3, 4), starts_at=utc("2026-03-04T05:00")),
        NOW,
        every_area(allowed_until(None)),
        id="parent-granted-anew-on-18th-birthday-is-an-adult-grant",
    ),
    pytest.param(
        POLICY,
        grant(date(2007, 1, 15), starts_at=utc("2025-06-01T12:00")),
        NOW,
        every_area(allowed_until(None)),
        id="parent-granted-anew-after-18-has-no-age-limit",
    ),
    pytest.param(
        POLICY,
        grant(date(2016, 6, 10), ends_at=utc("2026-03-04T20:00")),
        NOW,
        every_area(allowed_until(TODAY)),
        id="grant-ending-later-today-changes-today",
    ),
    pytest.param(
        POLICY,
        grant(date(2016, 6, 10), ends_at=utc("2027-01-01T05:00")),
        NOW,
        every_area(allowed_until(date(2027, 1, 1))),
        id="grant-ending-before-12th-birthday-changes-at-its-end",
    ),
    pytest.param(
        POLICY,
        grant(
            date(1950, 1, 1),
            CAREGIVER,
            scopes=frozenset({Scope.APPOINTMENTS, Scope.HEALTH_SUMMARY}),
            ends_at=utc("2027-09-04T04:00"),
        ),
        NOW,
        {
            RecordArea.APPOINTMENTS: allowed_until(date(2027, 9, 4)),
            RecordArea.RESULTS: withheld(AccessReason.PROXY_SCOPE),
            RecordArea.MESSAGES: withheld(AccessReason.PROXY_SCOPE),
            RecordArea.BILLING: withheld(AccessReason.PROXY_SCOPE),
            RecordArea.MEDICATIONS: withheld(AccessReason.PROXY_SCOPE),
            RecordArea.PROBLEMS: allowed_until(date(2027, 9, 4)),
            RecordArea.ALLERGIES: allowed_until(date(2027, 9, 4)),
            RecordArea.IMMUNIZATIONS: allowed_until(date(2027, 9, 4)),
            RecordArea.READINGS: allowed_until(date(2027, 9, 4)),
            RecordArea.CLINICAL_NOTES: withheld(AccessReason.PROXY_SCOPE),
            RecordArea.HEALTH_MAINTENANCE: allowed_until(date(2027, 9, 4)),
        },
        id="caregiver-of-adult-has-no-age-rules-and-only-granted-scopes",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 4), scopes=frozenset({Scope.APPOINTMENTS, Scope.RESULTS})),
        NOW,
        # What the policy withholds says so even where the grant lacks the scope too: a
        # wider grant would not help. The rest of what the grant lacks is PROXY_SCOPE.
        every_area(withheld(WITHHELD))
        | {area: withheld(AccessReason.PROXY_SCOPE) for area in POLICY.adolescent_parent_areas}
        | {RecordArea.APPOINTMENTS: allowed_until(date(2032, 3, 4))},
        id="age-rules-are-reported-before-a-missing-scope",
    ),
    # Near midnight UTC the local date is still the day before.
    pytest.param(
        POLICY,
        grant(date(2014, 3, 5)),
        utc("2026-03-05T02:00"),
        rows(allowed_until(date(2026, 3, 5)), allowed_until(date(2032, 3, 5))),
        id="21h-local-on-eve-of-12th-birthday-while-utc-date-is-the-birthday",
    ),
    pytest.param(
        POLICY,
        grant(date(2014, 3, 5)),
        utc("2026-03-05T05:00"),
        rows(withheld(WITHHELD), allowed_until(date(2032, 3, 5))),
        id="local-midnight-of-12th-birthday",
    ),
    # Leap-day birthdays.
    pytest.param(
        POLICY,
        grant(date(2012, 2, 29)),
        utc("2024-02-28T15:00"),
        rows(allowed_until(date(2024, 2, 29)), allowed_until(date(2030, 3, 1))),
        id="leap-day-child-on-28-feb-of-leap-12th-year",
    ),
    pytest.param(
        POLICY,
        grant(date(2012, 2, 29)),
        utc("2024-02-29T15:00"),
        rows(withheld(WITHHELD), allowed_until(date(2030, 3, 1))),
        id="leap-day-child-on-29-feb-of-leap-12th-year",
    ),
    pytest.param(
        ADOLESCENT_AT_14,
        grant(date(2012, 2, 29)),
        utc("2026-02-28T15:00"),
        rows(allowed_until(date(2026, 3, 1)), allowed_until(date(2030, 3, 1))),
        id="leap-day-child-on-28-feb-of-non-leap-14th-year",
    ),
    pytest.param(
        ADOLESCENT_AT_14,
        grant(date(2012, 2, 29)),
        utc("2026-03-01T15:00"),
        rows(withheld(WITHHELD), allowed_until(date(2030, 3, 1))),
        id="leap-day-child-on-1-march-of-non-leap-14th-year",
    ),
    # Other age policies.
    pytest.param(
        ADOLESCENT_AT_13,
        grant(date(2014, 3, 4)),
        NOW,
        rows(allowed_until(date(2027, 3, 4)), allowed_until(date(2032, 3, 4))),
        id="limit-at-13-child-of-12",
    ),
    pytest.param(
        ADOLESCENT_AT_13,
        grant(date(2013, 3, 4)),
        NOW,
        rows(withheld(WITHHELD), allowed_until(date(2031, 3, 4))),
        id="limit-at-13-adolescent-of-13",
    ),
    pytest.param(
        ADOLESCENT_AT_14,
        grant(date(2013, 3, 4)),
        NOW,
        rows(allowed_until(date(2027, 3, 4)), allowed_until(date(2031, 3, 4))),
        id="limit-at-14-child-of-13",
    ),
    pytest.param(
        ADOLESCENT_AT_14,
        grant(date(2012, 3, 4)),
        NOW,
        rows(withheld(WITHHELD), allowed_until(date(2030, 3, 4))),
        id="limit-at-14-adolescent-of-14",
    ),
    pytest.param(
        NO_PARENT_ACCESS,
        grant(date(2016, 6, 10)),
        NOW,
        every_area(allowed_until(date(2028, 6, 10))),
        id="no-parent-access-child-of-9-sees-all-until-12",
    ),
    pytest.param(
        NO_PARENT_ACCESS,
        grant(date(2014, 3, 4)),
        NOW,
        every_area(withheld(WITHHELD)),
        id="no-parent-access-adolescent-withholds-every-area",
    ),
    pytest.param(
        NO_PARENT_ACCESS,
        grant(date(2014, 3, 4), GUARDIAN),
        NOW,
        every_area(withheld(WITHHELD, date(2032, 3, 4))),
        id="no-parent-access-guardian-regains-all-at-18",
    ),
]


@pytest.mark.parametrize(("policy", "facts", "now", "expected"), AREA_CASES)
def test_area_access(policy: AgePolicy, facts: GrantFacts, now: datetime, expected: Table) -> None:
    context = patient_context(proxy(facts, now=now), PATIENT, policy)
    assert context.relationship is facts.relationship
    assert context.grant_id == facts.grant_id
    assert table(context) == expected


@pytest.mark.parametrize(("policy", "facts", "now", "expected"), AREA_CASES)
def test_access_patient_agrees_with_the_context(
    policy: AgePolicy, facts: GrantFacts, now: datetime, expected: Table
) -> None:
    principal = proxy(facts, now=now)
    for area, (allowed, reason, _, _) in expected.items():
        if allowed:
            issued = access_patient(principal, PATIENT, area, policy)
            assert (issued.account_id, issued.patient_id) == (ACCOUNT, PATIENT)
            assert (issued.area, issued.relationship) == (area, facts.relationship)
        else:
            with pytest.raises(AccessDenied) as denied:
                access_patient(principal, PATIENT, area, policy)
            assert (denied.value.reason, denied.value.area) == (reason, area)


@pytest.mark.parametrize(("policy", "facts", "now", "expected"), AREA_CASES)
def test_grant_allows_agrees_with_the_context(
    policy: AgePolicy, facts: GrantFacts, now: datetime, expected: Table
) -> None:
    """The patient's side of the policy (who else may see this) matches the proxy's side."""
    for area, (allowed, _, _, _) in expected.items():
        assert grant_allows(facts, area, now, policy) is allowed


# -- when a grant counts at all ---------------------------------------------------------
ADULT = date(1980, 5, 5)
NOT_ACTIVE = AccessReason.GRANT_NOT_ACTIVE
EXPIRED = AccessReason.GRANT_EXPIRED
AGED_OUT = AccessReason.AGED_OUT

STATE_CASES = [
    pytest.param(grant(ADULT, CAREGIVER), None, id="active-started-no-end"),
    pytest.param(grant(ADULT, CAREGIVER, status=GrantStatus.PENDING), NOT_ACTIVE, id="pending"),
    pytest.param(grant(ADULT, CAREGIVER, status=GrantStatus.REVOKED), NOT_ACTIVE, id="revoked"),
    pytest.param(
        grant(ADULT, CAREGIVER, starts_at=utc("2026-03-04T16:00")),
        NOT_ACTIVE,
        id="starts-in-an-hour",
    ),
    pytest.param(grant(ADULT, CAREGIVER, starts_at=NOW), None, id="starts-now"),
    pytest.param(
        grant(ADULT, CAREGIVER, ends_at=utc("2026-03-04T14:00")),
        EXPIRED,
        id="ended-earlier-today",
    ),
    pytest.param(grant(ADULT, CAREGIVER, ends_at=NOW), EXPIRED, id="ends-now"),
    pytest.param(
        grant(ADULT, CAREGIVER, ends_at=utc("2026-03-04T20:00")), None, id="ends-later-today"
    ),
    pytest.param(grant(date(2008, 3, 5)), None, id="parent-day-before-18th-birthday"),
    pytest.param(grant(date(2008, 3, 4)), AGED_OUT, id="parent-on-18th-birthday"),
    pytest.param(grant(date(2008, 3, 3)), AGED_OUT, id="parent-after-18th-birthday"),
    pytest.param(
        grant(date(2008, 3, 4), ends_at=utc("2026-03-04T14:00")),
        EXPIRED,
        id="expiry-is-reported-before-aging-out",
    ),
    pytest.param(
        grant(date(2008, 3, 4), starts_at=utc("2026-03-04T04:30")),
        AGED_OUT,
        id="parent-granted-at-23h30-local-on-the-eve-of-18-is-a-minor-grant",
    ),
    pytest.param(
        grant(date(2008, 3, 4), starts_at=utc("2026-03-04T05:00")),
        None,
        id="parent-granted-at-local-midnight-of-18th-birthday-is-an-adult-grant",
    ),
    pytest.param(grant(date(2008, 3, 4), GUARDIAN), None, id="guardian-on-18th-birthday"),
    pytest.param(grant(date(1990, 3, 4), GUARDIAN), None, id="guardian-of-adult-of-36"),
]


@pytest.mark.parametrize(("facts", "expected"), STATE_CASES)
def test_grant_state(facts: GrantFacts, expected: AccessReason | None) -> None:
    assert grant_state(facts, NOW, POLICY) == expected
    if expected is not None:
        assert not any(grant_allows(facts, area, NOW, POLICY) for area in RecordArea)
    principal = proxy(facts)
    listed = [c.patient_id for c in patient_contexts(principal, POLICY)]
    if expected is None:
        assert listed == [OWN_RECORD, PATIENT]
        assert patient_context(principal, PATIENT, POLICY).grant_id == facts.grant_id
        assert access_demographics(principal, PATIENT, POLICY).area is None
    else:
        assert listed == [OWN_RECORD]
        # A former (or future) proxy is told why; the reason is the grant's own.
        for check in (
            lambda: patient_context(principal, PATIENT, POLICY),
            lambda: access_demographics(principal, PATIENT, POLICY),
            lambda: access_patient(principal, PATIENT, RecordArea.APPOINTMENTS, POLICY),
        ):
            with pytest.raises(AccessDenied) as denied:
                check()
            assert (denied.value.reason, denied.value.area) == (expected, None)


@pytest.mark.parametrize(
    ("facts", "expires_at"),
    [
        pytest.param(
            grant(date(2016, 6, 10)),
            datetime(2034, 6, 10, tzinfo=NEW_YORK),
            id="parent-grant-for-a-minor-ends-as-18th-birthday-starts",
        ),
        pytest.param(
            grant(date(2016, 6, 10), ends_at=utc("2027-01-01T05:00")),
            utc("2027-01-01T05:00"),
            id="parent-grant-ending-before-18",
        ),
        pytest.param(
            grant(date(2016, 6, 10), ends_at=utc("2040-01-01T05:00")),
            datetime(2034, 6, 10, tzinfo=NEW_YORK),
            id="parent-grant-ending-after-18-ends-at-18",
        ),
        pytest.param(grant(date(2016, 6, 10), GUARDIAN), None, id="guardian-grant-never-ends"),
        pytest.param(
            grant(ADULT, CAREGIVER, ends_at=utc("2027-09-04T04:00")),
            utc("2027-09-04T04:00"),
            id="caregiver-grant-ends-at-its-end",
        ),
    ],
)
def test_context_expiry(facts: GrantFacts, expires_at: datetime | None) -> None:
    assert patient_context(proxy(facts), PATIENT, POLICY).expires_at == expires_at


# -- self, strangers and self-only records ----------------------------------------------
def test_self_sees_every_area_of_their_own_record() -> None:
    principal = proxy()
    context = patient_context(principal, OWN_RECORD, POLICY)
    assert (context.relationship, context.grant_id, context.expires_at) == (
        Relationship.SELF,
        None,
        None,
    )
    assert table(context) == every_area(allowed_until(None))
    for area in RecordArea:
        issued = access_patient(principal, OWN_RECORD, area, POLICY)
        assert (issued.patient_id, issued.area, issued.relationship) == (
            OWN_RECORD,
            area,
            Relationship.SELF,
        )


def test_a_context_missing_an_area_is_a_broken_invariant_not_a_silent_refusal() -> None:
    """Contexts are built with every area; one without it is our bug, raised as such
    (masked as an internal error at the edge), never a StopIteration leaking into the
    generators that read areas."""
    context = patient_context(proxy(), OWN_RECORD, POLICY)
    for area in RecordArea:
        assert context.area(area).area is area
    partial = dataclasses.replace(context, access=context.access[1:])
    with pytest.raises(BrokenInvariant, match=context.access[0].area.name):
        partial.area(context.access[0].area)


def test_a_stray_grant_to_oneself_is_ignored() -> None:
    stray = grant(ADULT, CAREGIVER, patient_id=OWN_RECORD, scopes=frozenset({Scope.BILLING}))
    principal = proxy(stray)
    assert [c.relationship for c in patient_contexts(principal, POLICY)] == [Relationship.SELF]
    context = patient_context(principal, OWN_RECORD, POLICY)
    assert (context.relationship, context.area(RecordArea.RESULTS).allowed) == (
        Relationship.SELF,
        True,
    )


def test_contexts_are_self_first_then_by_patient_id() -> None:
    principal = proxy(
        grant(ADULT, CAREGIVER, patient_id="pat-z"),
        grant(ADULT, CAREGIVER, patient_id="pat-k", status=GrantStatus.REVOKED),
        grant(date(2016, 6, 10), patient_id="pat-a"),
        grant(ADULT, CAREGIVER, patient_id=OWN_RECORD),
        grant(date(2008, 3, 4), patient_id="pat-b"),  # aged out today
        grant(date(2014, 3, 4), GUARDIAN, patient_id="pat-m"),
    )
    contexts = patient_contexts(principal, POLICY)
    assert [(c.patient_id, c.relationship) for c in contexts] == [
        (OWN_RECORD, Relationship.SELF),
        ("pat-a", PARENT),
        ("pat-m", GUARDIAN),
        ("pat-z", CAREGIVER),
    ]


def test_an_account_without_a_record_of_its_own_has_only_proxy_contexts() -> None:
    principal = proxy(grant(date(2016, 6, 10)), own=None)
    assert [c.patient_id for c in patient_contexts(principal, POLICY)] == [PATIENT]
    assert patient_contexts(proxy(own=None), POLICY) == []


@pytest.mark.parametrize(
    "principal",
    [
        pytest.param(proxy(), id="no-grants"),
        pytest.param(proxy(grant(ADULT, CAREGIVER, patient_id="pat-other")), id="grant-elsewhere"),
        pytest.param(proxy(own=None), id="no-own-record"),
    ],
)
def test_a_stranger_is_told_nothing_but_not_a_patient(principal: Principal) -> None:
    for check in (
        lambda: patient_context(principal, PATIENT, POLICY),
        lambda: access_demographics(principal, PATIENT, POLICY),
        lambda: access_patient(principal, PATIENT, RecordArea.BILLING, POLICY),
    ):
        with pytest.raises(AccessDenied) as denied:
            check()
        assert denied.value.reason is AccessReason.NOT_A_PATIENT


@pytest.mark.parametrize(
    ("policy", "facts"),
    [
        pytest.param(POLICY, grant(date(2014, 3, 4)), id="adolescent"),
        pytest.param(NO_PARENT_ACCESS, grant(date(2014, 3, 4)), id="adolescent-no-parent-access"),
        pytest.param(
            POLICY, grant(ADULT, CAREGIVER, scopes=frozenset()), id="grant-without-scopes"
        ),
    ],
)
def test_demographics_need_only_an_effective_grant(policy: AgePolicy, facts: GrantFacts) -> None:
    issued = access_demographics(proxy(facts), PATIENT, policy)
    assert (issued.account_id, issued.patient_id, issued.area, issued.relationship) == (
        ACCOUNT,
        PATIENT,
        None,
        facts.relationship,
    )


def test_own_record_is_for_self_only() -> None:
    principal = proxy(grant(date(2016, 6, 10), GUARDIAN))
    issued = access_own_record(principal, OWN_RECORD)
    assert (issued.patient_id, issued.area, issued.relationship) == (
        OWN_RECORD,
        None,
        Relationship.SELF,
    )
    for who, patient_id in ((principal, PATIENT), (proxy(own=None), PATIENT)):
        with pytest.raises(AccessDenied) as denied:
            access_own_record(who, patient_id)
        assert denied.value.reason is AccessReason.SELF_ONLY


# -- the scopes a context reports -------------------------------------------------------
@pytest.mark.parametrize(
    ("policy", "facts", "scopes"),
    [
        pytest.param(POLICY, grant(date(2016, 6, 10)), list(Scope), id="child-every-scope"),
        pytest.param(
            POLICY,
            grant(date(2014, 3, 4)),
            [Scope.APPOINTMENTS, Scope.BILLING, Scope.HEALTH_SUMMARY],
            id="adolescent-health-summary-through-allergies-and-immunizations",
        ),
        pytest.param(
            POLICY,
            grant(date(2014, 3, 4), scopes=frozenset({Scope.HEALTH_SUMMARY, Scope.RESULTS})),
            [Scope.HEALTH_SUMMARY],
            id="adolescent-results-granted-but-withheld",
        ),
        pytest.param(NO_PARENT_ACCESS, grant(date(2014, 3, 4)), [], id="no-parent-access"),
        pytest.param(
            POLICY,
            grant(ADULT, CAREGIVER, scopes=frozenset({Scope.MEDICATIONS, Scope.RESULTS})),
            [Scope.RESULTS, Scope.MEDICATIONS],
            id="caregiver-granted-scopes-in-enum-order",
        ),
    ],
)
def test_context_scopes(policy: AgePolicy, facts: GrantFacts, scopes: list[Scope]) -> None:
    assert patient_context(proxy(facts), PATIENT, policy).scopes == tuple(scopes)


# -- the proof object -------------------------------------------------------------------
def test_a_patient_grant_cannot_be_made_outside_the_policy() -> None:
    with pytest.raises(TypeError):
        PatientGrant(ACCOUNT, PATIENT, RecordArea.RESULTS, PARENT)
    with pytest.raises(TypeError):
        PatientGrant(ACCOUNT, PATIENT, RecordArea.RESULTS, PARENT, proof=object())


def test_a_patient_grant_cannot_be_copied_into_another() -> None:
    issued = access_own_record(proxy(), OWN_RECORD)
    with pytest.raises(TypeError):
        dataclasses.replace(issued, patient_id=PATIENT)


def test_grants_for_the_same_reading_are_equal_keys() -> None:
    """A grant keys the loaders of its patient: the same decision made twice gives equal
    grants with equal (cached) hashes; any difference makes another key."""
    principal = proxy()
    first = access_patient(principal, OWN_RECORD, RecordArea.RESULTS, POLICY)
    again = access_patient(principal, OWN_RECORD, RecordArea.RESULTS, POLICY)
    other = access_patient(principal, OWN_RECORD, RecordArea.BILLING, POLICY)
    assert first is not again
    assert first == again
    assert hash(first) == hash(again)
    assert first != other
    assert {first: 1, again: 2, other: 3} == {first: 2, other: 3}


# -- clinical notes: sensitive categories and the patient's privacy choices ------------
BEHAVIORAL = SensitiveCategory.BEHAVIORAL_HEALTH
SUBSTANCE = SensitiveCategory.SUBSTANCE_USE
ADULT = date(1950, 1, 1)
SENSITIVE = AccessReason.SENSITIVE_CATEGORY
Categories = dict[SensitiveCategory, tuple[bool, AccessReason | None]]


def categories(default: tuple[bool, AccessReason | None], **open_: bool) -> Categories:
    found = dict.fromkeys(SensitiveCategory, default)
    for name in open_:
        found[SensitiveCategory[name]] = (True, None)
    return found


CATEGORY_CASES = [
    pytest.param(
        grant(ADULT, CAREGIVER),
        categories((False, SENSITIVE)),
        id="caregiver-with-every-scope-sees-no-category-by-default",
    ),
    pytest.param(
        grant(ADULT, CAREGIVER, opened=frozenset({BEHAVIORAL})),
        categories((False, SENSITIVE), BEHAVIORAL_HEALTH=True),
        id="caregiver-sees-the-one-category-opened-to-them",
    ),
    pytest.param(
        grant(ADULT, CAREGIVER, scopes=EVERY_SCOPE - {Scope.CLINICAL_NOTES}, opened=EVERY_CATEGORY),
        categories((False, AccessReason.PROXY_SCOPE)),
        id="an-opened-category-needs-the-notes-scope-too",
    ),
    pytest.param(
        grant(date(2012, 3, 5), PARENT, opened=EVERY_CATEGORY),
        categories((False, WITHHELD)),
        id="adolescent-notes-withheld-from-a-parent-whatever-was-opened",
    ),
]


@pytest.mark.parametrize(("facts", "expected"), CATEGORY_CASES)
def test_sensitive_categories_in_the_context(facts: GrantFacts, expected: Categories) -> None:
    context = patient_context(proxy(facts), PATIENT, POLICY)
    assert {c.category: (c.allowed, c.reason) for c in context.sensitive} == expected


def test_the_patient_sees_every_category_of_their_own_notes() -> None:
    context = patient_context(proxy(), OWN_RECORD, POLICY)
    assert all(c.allowed and c.reason is None for c in context.sensitive)
    own = access_patient(proxy(), OWN_RECORD, RecordArea.CLINICAL_NOTES, POLICY)
    assert own.categories == EVERY_CATEGORY


NOTE_CASES = [
    # (opened to the proxy, note category, hidden by the patient) -> reason
    pytest.param(frozenset(), None, False, None, id="ordinary-note"),
    pytest.param(frozenset(), BEHAVIORAL, False, SENSITIVE, id="sensitive-not-opened"),
    pytest.param(frozenset({SUBSTANCE}), BEHAVIORAL, False, SENSITIVE, id="another-opened"),
    pytest.param(frozenset({BEHAVIORAL}), BEHAVIORAL, False, None, id="sensitive-opened"),
    pytest.param(
        frozenset({BEHAVIORAL}),
        BEHAVIORAL,
        True,
        AccessReason.HIDDEN_BY_PATIENT,
        id="hidden-beats-opened",
    ),
    pytest.param(frozenset(), None, True, AccessReason.HIDDEN_BY_PATIENT, id="hidden-ordinary"),
]


@pytest.mark.parametrize(("opened", "category", "hidden", "reason"), NOTE_CASES)
def test_note_withheld_from_a_proxy(
    opened: frozenset[SensitiveCategory],
    category: SensitiveCategory | None,
    hidden: bool,
    reason: AccessReason | None,
) -> None:
    principal = proxy(grant(ADULT, CAREGIVER, opened=opened))
    issued = access_patient(principal, PATIENT, RecordArea.CLINICAL_NOTES, POLICY)
    assert issued.categories == opened
    assert note_withheld(issued, category, hidden) is reason
    # The list query's filter admits exactly the notes note_withheld lets through.
    filter_ = note_filter(issued)
    admitted = (filter_.include_hidden or not hidden) and (
        category is None or filter_.categories is None or category in filter_.categories
    )
    assert admitted is (reason is None)


@pytest.mark.parametrize(("opened", "category", "hidden", "reason"), NOTE_CASES)
def test_the_patient_reads_every_note(
    opened: frozenset[SensitiveCategory],
    category: SensitiveCategory | None,
    hidden: bool,
    reason: AccessReason | None,
) -> None:
    own = access_patient(proxy(), OWN_RECORD, RecordArea.CLINICAL_NOTES, POLICY)
    assert note_withheld(own, category, hidden) is None
    assert note_filter(own) == NoteFilter(True, None)


@pytest.mark.parametrize(
    ("category", "hidden", "announced"),
    [
        pytest.param(None, False, True, id="ordinary"),
        pytest.param(BEHAVIORAL, False, False, id="sensitive"),
        pytest.param(None, True, False, id="hidden"),
    ],
)
def test_notes_announced_in_notifications(
    category: SensitiveCategory | None, hidden: bool, announced: bool
) -> None:
    assert may_announce_note(category, hidden) is announced


# -- records releases: the patient, or the representative of a child ----------------------
@pytest.mark.parametrize(
    ("facts", "reason"),
    [
        (grant(date(2019, 1, 1)), None),  # a parent of a 7-year-old
        (grant(date(2017, 1, 1), GUARDIAN), None),  # a guardian of a 9-year-old
        (grant(date(2012, 1, 1)), AccessReason.ADOLESCENT_CONFIDENTIAL),  # 14
        (grant(date(1990, 1, 1), GUARDIAN), AccessReason.SELF_ONLY),  # an adult
        (grant(date(2019, 1, 1), CAREGIVER), AccessReason.SELF_ONLY),  # not a representative
        (grant(date(2019, 1, 1), status=GrantStatus.REVOKED), AccessReason.GRANT_NOT_ACTIVE),
    ],
)
def test_records_release_by_a_representative(
    facts: GrantFacts, reason: AccessReason | None
) -> None:
    principal = proxy(facts)
    if reason is None:
        issued = access_records_release(principal, PATIENT, POLICY)
        assert (issued.patient_id, issued.area, issued.relationship) == (
            PATIENT,
            None,
            facts.relationship,
        )
        return
    with pytest.raises(AccessDenied) as denied:
        access_records_release(principal, PATIENT, POLICY)
    assert denied.value.reason is reason


def test_records_release_by_the_patient() -> None:
    issued = access_records_release(proxy(), OWN_RECORD, POLICY)
    assert issued.relationship is Relationship.SELF


def test_the_newest_grant_says_why_whatever_the_order_they_come_in() -> None:
    """An expired grant and a pending one (a renewal not accepted yet): the pending one is
    newer, so GRANT_NOT_ACTIVE, in either order; PostgreSQL returns them in any order."""
    expired = dataclasses.replace(
        grant(date(1950, 1, 1), Relationship.CAREGIVER, starts_at=NOW - timedelta(days=150)),
        grant_id="grant-a",
        ends_at=NOW - timedelta(days=90),
    )
    pending = dataclasses.replace(
        grant(date(1950, 1, 1), Relationship.CAREGIVER, status=GrantStatus.PENDING),
        grant_id="grant-b",
        starts_at=NOW - timedelta(days=3),
    )
    for grants in ((expired, pending), (pending, expired)):
        with pytest.raises(AccessDenied) as denied:
            patient_context(proxy(*grants), PATIENT, POLICY)
        assert denied.value.reason is AccessReason.GRANT_NOT_ACTIVE
    # The same start: the grant id decides, so the answer is still the same every time.
    renewed = dataclasses.replace(pending, starts_at=expired.starts_at, grant_id="grant-0")
    for grants in ((expired, renewed), (renewed, expired)):
        with pytest.raises(AccessDenied) as denied:
            patient_context(proxy(*grants), PATIENT, POLICY)
        assert denied.value.reason is AccessReason.GRANT_EXPIRED
