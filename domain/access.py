"""The one place that decides who may see what of which patient.

Everything that reads or writes a patient's record asks this module first and gets a
`PatientGrant` back, or an `AccessDenied`. Persistence reads and patient-scoped loader keys
take a `PatientGrant`, never a bare patient id, so an unchecked read has nothing to pass.
A `PatientGrant` can only be issued here (see `_ISSUED`; a test also greps for it).

Policy (DESIGN section 3), one condition per line below:
- self sees everything of their own record;
- a proxy needs an active, started, unexpired grant that includes the area's scope;
- parent and guardian grants follow the age rules of `AgePolicy` (configuration);
- a parent grant given for a minor ends at the adult age; a guardian grant does not;
- within clinical notes, sensitive categories are withheld from every proxy unless the
  patient opened that category to that proxy, and a note the patient hid is withheld from
  every proxy (`note_withheld`, `note_filter`, `category_access`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time
from functools import cached_property, lru_cache
from zoneinfo import ZoneInfo

from domain.errors import BrokenInvariant
from domain.scopes import (
    AccessReason,
    GrantStatus,
    RecordArea,
    Relationship,
    Scope,
    SensitiveCategory,
)

EVERY_CATEGORY = frozenset(SensitiveCategory)


@dataclass(frozen=True)
class AgePolicy:
    """Age rules for parent/guardian grants; hospitals and states differ, so this is config."""

    adolescent_age: int = 12
    adult_age: int = 18
    # What a parent/guardian still sees of an adolescent. Empty = no parent access at all.
    adolescent_parent_areas: frozenset[RecordArea] = frozenset(
        {
            RecordArea.APPOINTMENTS,
            RecordArea.BILLING,
            RecordArea.ALLERGIES,
            RecordArea.IMMUNIZATIONS,
        }
    )
    # Birthdays and grant end dates are read as dates in the health system's own zone.
    timezone: str = "America/New_York"

    def today(self, now: datetime) -> date:
        return now.astimezone(ZoneInfo(self.timezone)).date()

    def start_of(self, day: date) -> datetime:
        return datetime.combine(day, time.min, tzinfo=ZoneInfo(self.timezone))


@dataclass(frozen=True)
class GrantFacts:
    """What persistence knows about one proxy grant held by an account."""

    grant_id: str
    patient_id: str
    relationship: Relationship
    scopes: frozenset[Scope]
    status: GrantStatus
    starts_at: datetime
    ends_at: datetime | None
    patient_birth_date: date
    # Sensitive categories the patient opened to this proxy (none by default).
    opened_categories: frozenset[SensitiveCategory] = frozenset()


@dataclass(frozen=True)
class Principal:
    """Who is asking, as of `now`: their own record (if any) and every grant they hold."""

    account_id: str
    now: datetime
    patient_id: str | None = None
    grants: tuple[GrantFacts, ...] = ()


@dataclass(frozen=True)
class AreaAccess:
    area: RecordArea
    allowed: bool
    reason: AccessReason | None = None
    changes_on: date | None = None
    changes_to: bool | None = None


@dataclass(frozen=True)
class CategoryAccess:
    category: SensitiveCategory
    allowed: bool
    reason: AccessReason | None = None


@dataclass(frozen=True)
class PatientContext:
    """A patient the principal may act for, and what of their record each area allows."""

    patient_id: str
    relationship: Relationship
    grant_id: str | None
    expires_at: datetime | None
    access: tuple[AreaAccess, ...]
    opened_categories: frozenset[SensitiveCategory] = EVERY_CATEGORY

    def area(self, area: RecordArea) -> AreaAccess:
        for access in self.access:  # (a loop: `next` of a generator cost two more calls)
            if access.area is area:
                return access
        # Every context is built with every area (`_EVERY_AREA_OPEN`, `area_access`).
        raise BrokenInvariant(f"a patient context without the {area.name} area")

    # A context is immutable and kept per grant and day (`_proxy_context_on`): what it
    # derives is worked out once, not at each request that lists the viewer's patients.
    @cached_property
    def sensitive(self) -> tuple[CategoryAccess, ...]:
        """Each sensitive category of clinical notes: open to this viewer, or why not."""
        return tuple(category_access(self, c) for c in SensitiveCategory)

    @cached_property
    def scopes(self) -> tuple[Scope, ...]:
        """The scopes the policy really allows: those with at least one allowed area."""
        allowed = {a.area.scope for a in self.access if a.allowed}
        return tuple(s for s in Scope if s in allowed)


class AccessDenied(Exception):
    """The principal may not do this; `reason` says why (and is safe to show them)."""

    def __init__(self, reason: AccessReason, area: RecordArea | None = None) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.area = area
        # What was asked for, for the audit of refused reads (set by the edge, never shown:
        # `area` is shown, and a refusal for a patient one may not act for has none).
        self.patient_id: str | None = None
        self.asked_area: RecordArea | None = None
        self.object_id: str | None = None


_ISSUED = object()


@dataclass(frozen=True)
class PatientGrant:
    """Proof that `account_id` may read `area` of `patient_id` (None: self-only records)."""

    account_id: str
    patient_id: str
    area: RecordArea | None
    relationship: Relationship
    # The sensitive categories of clinical notes this reader may see (self: every one).
    categories: frozenset[SensitiveCategory] = frozenset()
    proof: object = field(default=None, repr=False, compare=False)
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.proof is not _ISSUED:
            raise TypeError("a PatientGrant is issued by domain.access only")
        # The proof is spent, so dataclasses.replace() cannot copy it into a forged grant.
        object.__setattr__(self, "proof", None)
        object.__setattr__(
            self,
            "_hash",
            hash((self.account_id, self.patient_id, self.area, self.relationship, self.categories)),
        )

    def __hash__(self) -> int:
        # Hashed once: a grant is a key of every loader of its patient (tens of lookups per
        # request), and hashing its enums and categories each time showed in profiles.
        return self._hash


def _issue(principal: Principal, context: PatientContext, area: RecordArea | None) -> PatientGrant:
    return PatientGrant(
        principal.account_id,
        context.patient_id,
        area,
        context.relationship,
        context.opened_categories,
        proof=_ISSUED,
    )


def birthday(birth: date, years: int) -> date:
    """The date someone turns `years`; a 29 February birthday falls on 1 March otherwise."""
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:
        return date(birth.year + years, 3, 1)


def age_on(birth: date, day: date) -> int:
    years = day.year - birth.year
    return years if birthday(birth, years) <= day else years - 1


def grant_state(grant: GrantFacts, now: datetime, policy: AgePolicy) -> AccessReason | None:
    """None when the grant counts at `now`, else why it does not."""
    # Pending and revoked grants never count.
    if grant.status is not GrantStatus.ACTIVE:
        return AccessReason.GRANT_NOT_ACTIVE
    # A grant dated in the future does not count yet.
    if grant.starts_at > now:
        return AccessReason.GRANT_NOT_ACTIVE
    # A grant ends at its end instant.
    if grant.ends_at is not None and grant.ends_at <= now:
        return AccessReason.GRANT_EXPIRED
    # A parent grant given for a minor ends when the minor becomes an adult.
    aged_out_on = _aged_out_on(grant, policy)
    if aged_out_on is not None and aged_out_on <= policy.today(now):
        return AccessReason.AGED_OUT
    return None


def _aged_out_on(grant: GrantFacts, policy: AgePolicy) -> date | None:
    """The date a parent grant given before adulthood ends (guardianship does not end)."""
    if grant.relationship is not Relationship.PARENT:
        return None
    adult_on = birthday(grant.patient_birth_date, policy.adult_age)
    # A grant the adult gave anew to a parent is an adult grant: it has no age limit.
    if policy.today(grant.starts_at) >= adult_on:
        return None
    return adult_on


_EVERY_AREA_OPEN = tuple(AreaAccess(area, True) for area in RecordArea)


def _self_context(principal: Principal, patient_id: str) -> PatientContext:
    return PatientContext(patient_id, Relationship.SELF, None, None, _EVERY_AREA_OPEN)


def _proxy_area(grant: GrantFacts, area: RecordArea, today: date, policy: AgePolicy) -> AreaAccess:
    aged_out_on = _aged_out_on(grant, policy)
    end_day = policy.today(grant.ends_at) if grant.ends_at is not None else None
    in_scope = area.scope in grant.scopes
    # Age rules apply to parent and guardian grants only.
    age = age_on(grant.patient_birth_date, today)
    limited = grant.relationship.is_for_minor and area not in policy.adolescent_parent_areas
    # An adolescent's confidential areas are withheld whatever the grant says, and that is
    # the reason given (a wider grant would not help); a guardian may regain them.
    if limited and policy.adolescent_age <= age < policy.adult_age:
        regained_on = _regained_on(grant, policy) if in_scope else None
        return AreaAccess(
            area,
            False,
            AccessReason.ADOLESCENT_CONFIDENTIAL,
            regained_on,
            None if regained_on is None else True,
        )
    # Otherwise the grant must name the area's scope.
    if not in_scope:
        return AreaAccess(area, False, AccessReason.PROXY_SCOPE)
    # A child's record is fully open until the adolescent birthday, then limited.
    if limited and age < policy.adolescent_age:
        adolescent_on = birthday(grant.patient_birth_date, policy.adolescent_age)
        return AreaAccess(area, True, None, *_earliest(adolescent_on, end_day, aged_out_on))
    return AreaAccess(area, True, None, *_earliest(end_day, aged_out_on))


def _regained_on(grant: GrantFacts, policy: AgePolicy) -> date | None:
    """The date a guardian sees an adolescent's confidential areas again: adulthood."""
    # A parent grant given for a minor ends at adulthood: nothing comes back.
    if grant.relationship is not Relationship.GUARDIAN:
        return None
    adult_on = birthday(grant.patient_birth_date, policy.adult_age)
    # A guardian grant that ends before then never sees that day.
    if grant.ends_at is not None and grant.ends_at <= policy.start_of(adult_on):
        return None
    return adult_on


def _earliest(*days: date | None) -> tuple[date | None, bool | None]:
    """The first future date on which an allowed area becomes withheld."""
    known = [d for d in days if d is not None]
    return (min(known), False) if known else (None, None)


def _context_expiry(grant: GrantFacts, policy: AgePolicy) -> datetime | None:
    aged_out_on = _aged_out_on(grant, policy)
    ends = [grant.ends_at] if grant.ends_at is not None else []
    if aged_out_on is not None:
        ends.append(policy.start_of(aged_out_on))
    return min(ends) if ends else None


def _proxy_context(grant: GrantFacts, now: datetime, policy: AgePolicy) -> PatientContext:
    return _proxy_context_on(grant, policy.today(now), policy)


# A grant's context depends on the grant, the day and the policy only, and every request of
# its holder asks for it (each area of each patient, for the viewer's list and for every
# access check): decided once per grant and day. The values are immutable.
@lru_cache(maxsize=8192)
def _proxy_context_on(grant: GrantFacts, today: date, policy: AgePolicy) -> PatientContext:
    access = tuple(_proxy_area(grant, area, today, policy) for area in RecordArea)
    expires_at = _context_expiry(grant, policy)
    return PatientContext(
        grant.patient_id,
        grant.relationship,
        grant.grant_id,
        expires_at,
        access,
        grant.opened_categories,
    )


def patient_contexts(principal: Principal, policy: AgePolicy) -> list[PatientContext]:
    """Self first, then every patient an effective grant lets the principal act for."""
    contexts = []
    if principal.patient_id is not None:
        contexts.append(_self_context(principal, principal.patient_id))
    for grant in sorted(_effective(principal, policy), key=lambda g: g.patient_id):
        contexts.append(_proxy_context(grant, principal.now, policy))
    return contexts


def _effective(principal: Principal, policy: AgePolicy) -> Iterable[GrantFacts]:
    for grant in principal.grants:
        # Self never needs a grant; a stray grant to one's own record is ignored.
        if grant.patient_id == principal.patient_id:
            continue
        if grant_state(grant, principal.now, policy) is None:
            yield grant


def patient_context(principal: Principal, patient_id: str, policy: AgePolicy) -> PatientContext:
    """The principal's context for one patient; unknown and forbidden patients look the same."""
    if patient_id == principal.patient_id:
        return _self_context(principal, patient_id)
    for grant in _effective(principal, policy):
        if grant.patient_id == patient_id:
            return _proxy_context(grant, principal.now, policy)
    raise AccessDenied(_why_no_context(principal, patient_id, policy))


def _why_no_context(principal: Principal, patient_id: str, policy: AgePolicy) -> AccessReason:
    """Tell a proxy why a patient they once had is gone; tell anyone else nothing.

    With several grants for the patient (an expired one and a pending renewal, say), the
    newest speaks (latest start, then grant id): it is the one the proxy last received and
    what happens next, and the answer does not depend on the order grants were loaded in."""
    held = [grant for grant in principal.grants if grant.patient_id == patient_id]
    # Not a proxy of this patient at all.
    if not held:
        return AccessReason.NOT_A_PATIENT
    newest = max(held, key=lambda grant: (grant.starts_at, grant.grant_id))
    return grant_state(newest, principal.now, policy) or AccessReason.NOT_A_PATIENT


def access_patient(
    principal: Principal, patient_id: str, area: RecordArea, policy: AgePolicy
) -> PatientGrant:
    """Check that the principal may read `area` of `patient_id`; raise AccessDenied if not."""
    context = patient_context(principal, patient_id, policy)
    decision = context.area(area)
    if not decision.allowed:
        raise AccessDenied(decision.reason or AccessReason.PROXY_SCOPE, area)
    return _issue(principal, context, area)


def access_demographics(principal: Principal, patient_id: str, policy: AgePolicy) -> PatientGrant:
    """Name, birth date and contact details: any patient the principal may act for."""
    return _issue(principal, patient_context(principal, patient_id, policy), None)


def access_own_record(principal: Principal, patient_id: str) -> PatientGrant:
    """Things only the patient themself manages: proxy grants, the access log."""
    if patient_id != principal.patient_id:
        raise AccessDenied(AccessReason.SELF_ONLY)
    return _issue(principal, _self_context(principal, patient_id), None)


def access_records_release(
    principal: Principal, patient_id: str, policy: AgePolicy
) -> PatientGrant:
    """Who may ask for a copy of a record to be sent elsewhere (and see those requests): the
    patient; and a parent or guardian of a child under the adolescent age, as the child's
    personal representative (the release desk still verifies that authority)."""
    # The patient themself.
    if patient_id == principal.patient_id:
        return _issue(principal, _self_context(principal, patient_id), None)
    # Otherwise an effective grant (raises as any read would without one).
    context = patient_context(principal, patient_id, policy)
    grant = next(g for g in _effective(principal, policy) if g.patient_id == patient_id)
    # Only a parent or guardian represents the patient; caregivers and spouses do not.
    if not grant.relationship.is_for_minor:
        raise AccessDenied(AccessReason.SELF_ONLY)
    age = age_on(grant.patient_birth_date, policy.today(principal.now))
    # An adult decides alone (a guardian of an adult asks the release desk directly).
    if age >= policy.adult_age:
        raise AccessDenied(AccessReason.SELF_ONLY)
    # An adolescent's record is released at the adolescent's own request.
    if age >= policy.adolescent_age:
        raise AccessDenied(AccessReason.ADOLESCENT_CONFIDENTIAL)
    return _issue(principal, context, None)


def grant_allows(grant: GrantFacts, area: RecordArea, now: datetime, policy: AgePolicy) -> bool:
    """Whether a proxy holding `grant` may read `area` of its patient at `now` (the patient's
    side of the policy: who else sees a new message, a released result, a notification)."""
    if grant_state(grant, now, policy) is not None:
        return False
    return _proxy_area(grant, area, policy.today(now), policy).allowed


# -- clinical notes: sensitive categories and the patient's privacy choices -------------
def category_access(context: PatientContext, category: SensitiveCategory) -> CategoryAccess:
    """Whether notes of a sensitive category are open in this context, or why not."""
    notes = context.area(RecordArea.CLINICAL_NOTES)
    # Without the notes area, no category is open, for the area's own reason.
    if not notes.allowed:
        return CategoryAccess(category, False, notes.reason)
    # The patient sees every category of their own record.
    if context.relationship is Relationship.SELF:
        return CategoryAccess(category, True)
    # A proxy sees a category only once the patient opened it to them.
    if category not in context.opened_categories:
        return CategoryAccess(category, False, AccessReason.SENSITIVE_CATEGORY)
    return CategoryAccess(category, True)


def note_withheld(
    grant: PatientGrant, category: SensitiveCategory | None, hidden: bool
) -> AccessReason | None:
    """Why one clinical note is withheld from the holder of a CLINICAL_NOTES grant, or None."""
    # The patient reads every note of their own record, hidden or sensitive.
    if grant.relationship is Relationship.SELF:
        return None
    # A note the patient hid is withheld from every proxy, whatever else is open.
    if hidden:
        return AccessReason.HIDDEN_BY_PATIENT
    # A sensitive category must have been opened to this proxy.
    if category is not None and category not in grant.categories:
        return AccessReason.SENSITIVE_CATEGORY
    return None


@dataclass(frozen=True)
class NoteFilter:
    """`note_withheld` as a list query applies it: which notes a page may contain."""

    include_hidden: bool
    categories: frozenset[SensitiveCategory] | None  # None: every category


def note_filter(grant: PatientGrant) -> NoteFilter:
    # The patient's own list holds everything.
    if grant.relationship is Relationship.SELF:
        return NoteFilter(True, None)
    # A proxy's: no hidden note, and only the categories opened to them.
    return NoteFilter(False, grant.categories)


def may_announce_note(category: SensitiveCategory | None, hidden: bool) -> bool:
    """Whether a note may be announced in notifications (in-app, mail, SMS, push) at all:
    sensitive and hidden notes never are, to anyone (the note itself is still listed and
    delivered live to those who may read it)."""
    return category is None and not hidden
