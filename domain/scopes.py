"""The vocabulary of proxy access: what a grant names, and the parts of a record it covers."""

from __future__ import annotations

from enum import Enum


class KeyEnum(Enum):
    """An enum whose members hash by identity. Members are singletons compared by identity,
    so this is the same equality; Enum's own `__hash__` is Python code hashing the member's
    name, run at every dict and set lookup — and the access policy keys its decisions,
    scopes and grants by these at every patient-scoped field."""

    __hash__ = object.__hash__


class Scope(KeyEnum):
    """What a proxy grant names (DESIGN section 3)."""

    APPOINTMENTS = "appointments"
    RESULTS = "results"
    MESSAGES = "messages"
    BILLING = "billing"
    HEALTH_SUMMARY = "health_summary"
    MEDICATIONS = "medications"
    CLINICAL_NOTES = "clinical_notes"


class RecordArea(KeyEnum):
    """A part of a patient's record that a field reads.

    Each area belongs to one grant scope. HEALTH_SUMMARY is split because adolescent
    policy allows a parent its allergies and immunizations but not its problems.
    """

    APPOINTMENTS = "appointments"
    RESULTS = "results"
    MESSAGES = "messages"
    BILLING = "billing"
    MEDICATIONS = "medications"
    PROBLEMS = "problems"
    ALLERGIES = "allergies"
    IMMUNIZATIONS = "immunizations"
    # Home readings (glucose, blood pressure, weight) for remote monitoring: health summary
    # data, and confidential for an adolescent unless configured as a parent area.
    READINGS = "readings"
    # Clinical notes and after-visit summaries: their own scope; confidential for an
    # adolescent like results, and sensitive categories within it (SensitiveCategory).
    CLINICAL_NOTES = "clinical_notes"
    # Health maintenance topics (screenings, immunizations due): health summary data, and
    # confidential for an adolescent (a screening can reveal what the visit was for).
    HEALTH_MAINTENANCE = "health_maintenance"

    @property
    def scope(self) -> Scope:
        return _AREA_SCOPE[self]


_AREA_SCOPE = {
    RecordArea.APPOINTMENTS: Scope.APPOINTMENTS,
    RecordArea.RESULTS: Scope.RESULTS,
    RecordArea.MESSAGES: Scope.MESSAGES,
    RecordArea.BILLING: Scope.BILLING,
    RecordArea.MEDICATIONS: Scope.MEDICATIONS,
    RecordArea.PROBLEMS: Scope.HEALTH_SUMMARY,
    RecordArea.ALLERGIES: Scope.HEALTH_SUMMARY,
    RecordArea.IMMUNIZATIONS: Scope.HEALTH_SUMMARY,
    RecordArea.READINGS: Scope.HEALTH_SUMMARY,
    RecordArea.CLINICAL_NOTES: Scope.CLINICAL_NOTES,
    RecordArea.HEALTH_MAINTENANCE: Scope.HEALTH_SUMMARY,
}


class SensitiveCategory(KeyEnum):
    """Parts of the record withheld from every proxy unless the patient opens them to one
    (DESIGN section 3, "Proxy access"); OTHER: what the EHR marks sensitive otherwise."""

    BEHAVIORAL_HEALTH = "behavioral_health"
    SUBSTANCE_USE = "substance_use"
    REPRODUCTIVE_SEXUAL_HEALTH = "reproductive_sexual_health"
    OTHER = "other"


class Relationship(KeyEnum):
    SELF = "self"
    PARENT = "parent"
    GUARDIAN = "guardian"
    CAREGIVER = "caregiver"
    SPOUSE = "spouse"

    @property
    def is_for_minor(self) -> bool:
        """Parent and guardian grants follow the age rules; adult-to-adult ones do not."""
        return self in (Relationship.PARENT, Relationship.GUARDIAN)


class GrantStatus(KeyEnum):
    PENDING = "pending"
    ACTIVE = "active"
    REVOKED = "revoked"


class AccessReason(KeyEnum):
    """Why something is withheld. Nothing is hidden silently: the API names one of these."""

    PROXY_SCOPE = "PROXY_SCOPE"  # the grant does not include the scope
    ADOLESCENT_CONFIDENTIAL = "ADOLESCENT_CONFIDENTIAL"  # age policy withholds it from a parent
    AGED_OUT = "AGED_OUT"  # the patient turned adult; a parent grant has ended
    GRANT_EXPIRED = "GRANT_EXPIRED"  # the grant's end date has passed
    GRANT_NOT_ACTIVE = "GRANT_NOT_ACTIVE"  # pending or revoked
    NOT_A_PATIENT = "NOT_A_PATIENT"  # no grant and not self (also: no such patient)
    SELF_ONLY = "SELF_ONLY"  # e.g. proxy grants and the access log are the patient's own
    HELD_FOR_REVIEW = "HELD_FOR_REVIEW"  # a result not released yet: status shown, values not
    SENSITIVE_CATEGORY = "SENSITIVE_CATEGORY"  # a sensitive category the patient keeps private
    HIDDEN_BY_PATIENT = "HIDDEN_BY_PATIENT"  # one item the patient hid from every proxy
    WITHHELD_BY_PROVIDER = "WITHHELD_BY_PROVIDER"  # a note withheld under a named exception
