"""GraphQL enums (SCREAMING_CASE), mirrored from the domain's own."""

from __future__ import annotations

from enum import Enum

import strawberry

from domain.results import Flag, ReleaseStatus
from domain.scopes import AccessReason, GrantStatus, RecordArea, Relationship, Scope

ScopeEnum = strawberry.enum(Scope, name="Scope")
RecordAreaEnum = strawberry.enum(RecordArea, name="RecordArea")
RelationshipEnum = strawberry.enum(Relationship, name="Relationship")
AccessReasonEnum = strawberry.enum(AccessReason, name="AccessReason")
GrantStatusEnum = strawberry.enum(GrantStatus, name="GrantStatus")
ReleaseStatusEnum = strawberry.enum(ReleaseStatus, name="ReleaseStatus")
FlagEnum = strawberry.enum(Flag, name="Flag")


@strawberry.enum
class AppointmentWhen(Enum):
    UPCOMING = "UPCOMING"
    PAST = "PAST"


@strawberry.enum
class AppointmentStatus(Enum):
    SCHEDULED = "scheduled"
    CONFIRMED = "confirmed"
    CHECKED_IN = "checked_in"
    COMPLETED = "completed"
    CANCELLED = "cancelled"
    NO_SHOW = "no_show"


@strawberry.enum
class ResultKind(Enum):
    LAB = "lab"
    IMAGING = "imaging"


@strawberry.enum
class ResultStatus(Enum):
    PRELIMINARY = "preliminary"
    FINAL = "final"
    CORRECTED = "corrected"


@strawberry.enum
class MessageCategory(Enum):
    MEDICAL_QUESTION = "medical_question"
    REFILL = "refill"
    BILLING = "billing"
    SCHEDULING = "scheduling"
