"""The GraphQL schema's shape: the root types and every Node type, for the edge to assemble
(portal/api.py builds the Schema object with the edge's extensions)."""

from __future__ import annotations

from schema import enums as _enums  # noqa: F401  (registers the domain enums with strawberry)
from schema.appointments import Appointment, Slot
from schema.attachments import Attachment
from schema.billing import Statement
from schema.messages import Message, MessageThread
from schema.mutation import Mutation
from schema.notifications import Notification
from schema.patient import Patient
from schema.people import Account, Department, Provider
from schema.proxy import ProxyGrant
from schema.query import Query
from schema.records import HealthReading, RecordsReleaseRequest
from schema.results import Result
from schema.subscription import Subscription
from schema.summary import Allergy, Immunization, Medication, Problem

NODE_TYPES: list[type] = [
    Patient,
    Provider,
    Department,
    Account,
    Appointment,
    Slot,
    Result,
    MessageThread,
    Message,
    Attachment,
    Notification,
    Medication,
    Allergy,
    Problem,
    Immunization,
    Statement,
    ProxyGrant,
    HealthReading,
    RecordsReleaseRequest,
]

__all__ = ["NODE_TYPES", "Mutation", "Query", "Subscription"]
