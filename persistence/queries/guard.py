"""Turn checked grants into the patient ids a query may touch."""

from __future__ import annotations

from collections.abc import Iterable

from domain.access import PatientGrant
from domain.scopes import RecordArea, Relationship


def patient_ids(grants: Iterable[PatientGrant], area: RecordArea | None) -> list[str]:
    """The patients these grants cover for `area`; a grant for another area is a bug."""
    ids = []
    for grant in grants:
        if grant.area is not area:
            raise PermissionError(f"a grant for {grant.area} cannot read {area}")
        ids.append(grant.patient_id)
    return ids


def release_patient_id(grant: PatientGrant) -> str:
    """Records releases: the patient's own grant, or the one `access_records_release` gave a
    parent or guardian of a child (area None, like every non-area grant)."""
    if grant.area is not None or grant.relationship not in (
        Relationship.SELF,
        Relationship.PARENT,
        Relationship.GUARDIAN,
    ):
        raise PermissionError("records releases read through another kind of grant")
    return grant.patient_id


def own_patient_id(grant: PatientGrant) -> str:
    """Self-only records (proxy grants, access log) need the patient's own grant."""
    if grant.relationship is not Relationship.SELF:
        raise PermissionError("self-only record read through a proxy grant")
    return grant.patient_id
