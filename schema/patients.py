"""The patient, the contexts a viewer may act in, and what each context allows."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from domain.access import AreaAccess as AreaAccessFacts
from domain.access import PatientContext as PatientContextFacts
from domain.access import PatientGrant, age_on
from domain.notes import NoteKind
from domain.readings import ReadingKind
from domain.scopes import AccessReason, RecordArea, Relationship, Scope
from resolvers import notes as notes_r
from resolvers import patients as r
from schema import appointment_requests as appointment_requests_s
from schema import appointments as appointments_s
from schema import billing as billing_s
from schema import coverages as coverages_s
from schema import health_maintenance as maintenance_s
from schema import messages as messages_s
from schema import notes as notes_s
from schema import proxies as proxies_s
from schema import records as records_s
from schema import renewals as renewals_s
from schema import results as results_s
from schema import summary as summary_s
from schema.appointment_requests import AppointmentRequest
from schema.appointments import Appointment
from schema.base import Connection, Info, Node, RequiresScope
from schema.billing import Statement, StatementStatus
from schema.coverages import Coverage
from schema.enums import AppointmentWhen, MessageCategory, ResultKind
from schema.health_maintenance import HealthMaintenanceTopic
from schema.lookahead import THREAD_MESSAGES, nested_page_size
from schema.money import Money
from schema.notes import ClinicalNote, SensitiveCategoryAccess
from schema.people import Address, Provider
from schema.proxies import AccessLogEntry, ProxyGrant
from schema.records import HealthReading, RecordsReleaseRequest
from schema.renewals import PrescriptionRenewal
from schema.results import Result, TrendPoint
from schema.summary import Allergy, Immunization, Medication, MedicationStatus, Problem

if TYPE_CHECKING:
    from persistence.queries.people import PatientRow
    from schema.messages import MessageThread, MessagingTerms


# Patient fields that need no RequiresScope because their resolvers demand the patient's
# own record (`info.context.own_record`): a proxy asking gets FORBIDDEN with SELF_ONLY.
SELF_ONLY_FIELDS = ["proxyGrants", "accessLog", "recordsReleaseRequests"]

# Patient fields (python names) anyone who may act for the patient sees: the Patient was
# loaded through `Context.demographics`. Every other field declares RequiresScope or is
# self only; tests/test_guards.py fails on a field that is in none of these.
DEMOGRAPHICS_FIELDS = frozenset(
    {
        "id",
        "mrn",
        "name",
        "birth_date",
        "age",
        "sex",
        "email",
        "phone",
        "address",
        "primary_care_provider",
    }
)


@strawberry.type
class PersonName:
    given: str
    family: str
    preferred: str | None = strawberry.field(
        description="The name the person goes by (updateProfile); the legal name stays as the "
        "clinic's records have it."
    )
    pronouns: str | None = strawberry.field(description="As the person gave them (updateProfile).")

    @strawberry.field(description="The name to greet the person by: preferred, else given.")
    def display(self) -> str:
        return f"{self.preferred or self.given} {self.family}"


@strawberry.type
class Patient(Node):
    mrn: str
    name: PersonName
    birth_date: date
    age: int
    sex: str
    email: str | None
    phone: str | None
    address: Address | None
    patient_id: strawberry.Private[str]
    pcp_provider_id: strawberry.Private[str | None]

    def node_id(self) -> str:
        return self.patient_id

    @strawberry.field
    async def primary_care_provider(self, info: Info) -> Provider | None:
        return await Provider.by_id(info, self.pcp_provider_id)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.APPOINTMENTS, "Appointment")],
        description="Null, with a FORBIDDEN error and its reason, when not visible to the viewer.",
    )
    async def appointments(
        self,
        info: Info,
        grant: PatientGrant,
        when: AppointmentWhen = AppointmentWhen.UPCOMING,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Appointment] | None:
        return await appointments_s.patient_appointments(info, grant, when, first, after)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.RESULTS, "Result")],
        description="Newest first, pending ones included (their values withheld). Null, with a "
        "FORBIDDEN error and its reason, when not visible to the viewer.",
    )
    async def results(
        self,
        info: Info,
        grant: PatientGrant,
        kind: ResultKind | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Result] | None:
        return await results_s.patient_results(info, grant, kind, first, after)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.RESULTS, "Result")],
        description="Released values of one component LOINC code, oldest first.",
    )
    async def result_trend(
        self, info: Info, grant: PatientGrant, code: str
    ) -> list[TrendPoint] | None:
        return await results_s.result_trend(info, grant, code)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.MESSAGES, "MessageThread")],
        description="Newest activity first. Null, with FORBIDDEN and its reason, when withheld.",
    )
    async def message_threads(
        self,
        info: Info,
        grant: PatientGrant,
        unread_only: bool | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Annotated[MessageThread, strawberry.lazy("schema.messages")]] | None:
        messages = nested_page_size(info, THREAD_MESSAGES)  # loaded with the threads
        return await messages_s.patient_threads(info, grant, unread_only, first, after, messages)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.MESSAGES, "MessageThread")],
        description="Provider messages the viewer has not read, across the patient's threads.",
    )
    async def unread_message_count(self, info: Info, grant: PatientGrant) -> int | None:
        return await messages_s.patient_unread_count(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.MESSAGES, "MessagingTerms")],
        description="Before sending a new message: whether it may be billed as an e-visit and "
        "when to expect a reply (the recipient is a provider when named, else the category's "
        "pool or the PCP, as sendMessage routes it).",
    )
    def messaging_terms(
        self,
        info: Info,
        grant: PatientGrant,
        category: MessageCategory,
        recipient_provider_id: strawberry.ID | None = None,
    ) -> Annotated[MessagingTerms, strawberry.lazy("schema.messages")] | None:
        return messages_s.messaging_terms(info, grant, category, recipient_provider_id)

    # -- health summary (each list has its own area: adolescent rules differ) ------------
    @strawberry.field(
        extensions=[RequiresScope(RecordArea.MEDICATIONS, "Medication")],
        description="Active first, then by name. Null, with FORBIDDEN and its reason, if withheld.",
    )
    async def medications(
        self, info: Info, grant: PatientGrant, status: MedicationStatus | None = None
    ) -> list[Medication] | None:
        return await summary_s.medications(info, grant, status)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.MEDICATIONS, "PrescriptionRenewal")],
        description="Renewals asked of prescribers (requestRenewal), newest first.",
    )
    async def prescription_renewals(
        self, info: Info, grant: PatientGrant
    ) -> list[PrescriptionRenewal] | None:
        return await renewals_s.prescription_renewals(info, grant)

    @strawberry.field(extensions=[RequiresScope(RecordArea.ALLERGIES, "Allergy")])
    async def allergies(self, info: Info, grant: PatientGrant) -> list[Allergy] | None:
        return await summary_s.allergies(info, grant)

    @strawberry.field(extensions=[RequiresScope(RecordArea.PROBLEMS, "Problem")])
    async def problems(self, info: Info, grant: PatientGrant) -> list[Problem] | None:
        return await summary_s.problems(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.IMMUNIZATIONS, "Immunization")],
        description="Newest first.",
    )
    async def immunizations(self, info: Info, grant: PatientGrant) -> list[Immunization] | None:
        return await summary_s.immunizations(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.HEALTH_MAINTENANCE, "HealthMaintenanceTopic")],
        description="Screenings and immunizations due, overdue first, from the EHR. Health "
        "summary data: proxies with HEALTH_SUMMARY; withheld from a parent of an adolescent.",
    )
    async def health_maintenance(
        self, info: Info, grant: PatientGrant
    ) -> list[HealthMaintenanceTopic] | None:
        return await maintenance_s.topics(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.APPOINTMENTS, "AppointmentRequest")],
        description="Visits asked for (requestAppointment), newest first, with where each "
        "stands: REQUESTED, SCHEDULED (with the appointment), DECLINED (with the clinic's "
        "reason) or CANCELLED.",
    )
    async def appointment_requests(
        self, info: Info, grant: PatientGrant
    ) -> list[AppointmentRequest] | None:
        return await appointment_requests_s.appointment_requests(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.IMMUNIZATIONS, "Immunization")],
        description="Where to GET the printable immunization record (a PDF; relative to the "
        "API's origin, with the same bearer token). Whoever may read `immunizations`.",
    )
    def immunization_record_url(self, info: Info, grant: PatientGrant) -> str | None:
        return summary_s.immunization_record_url(grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.APPOINTMENTS, "Provider")],
        description="The primary care provider first, then providers the patient has seen or "
        "is booked with. It reveals care relationships, so it needs the APPOINTMENTS area.",
    )
    async def care_team(self, info: Info, grant: PatientGrant) -> list[Provider] | None:
        return await summary_s.care_team(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.CLINICAL_NOTES, "ClinicalNote")],
        description="Signed notes and after-visit summaries, newest first (current versions; "
        "earlier ones through `supersedes`). A proxy's list leaves out what the policy "
        "withholds from it (see PatientContext.sensitiveCategories). Null, with FORBIDDEN and "
        "its reason, when the area is withheld.",
    )
    async def clinical_notes(
        self,
        info: Info,
        grant: PatientGrant,
        kind: NoteKind | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[ClinicalNote] | None:
        return await notes_s.patient_notes(info, grant, kind, first, after)

    # -- billing: statements whose guarantor is this patient ------------------------------
    @strawberry.field(
        extensions=[RequiresScope(RecordArea.BILLING, "Statement")],
        description="Statements this patient is the guarantor of (dependents' charges "
        "included), newest first.",
    )
    async def statements(
        self,
        info: Info,
        grant: PatientGrant,
        status: StatementStatus | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[Statement] | None:
        return await billing_s.statements(info, grant, status, first, after)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.BILLING, "Coverage")],
        description="Insurance coverages on file (from the EHR), primary first; the primary "
        "one shows the card image sent with eCheck-in.",
    )
    async def coverages(self, info: Info, grant: PatientGrant) -> list[Coverage] | None:
        return await coverages_s.coverages(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.BILLING, "Statement")],
        description="What is owed on the open statements this patient is the guarantor of.",
    )
    async def balance(self, info: Info, grant: PatientGrant) -> Money | None:
        return await billing_s.balance(info, grant)

    @strawberry.field(
        extensions=[RequiresScope(RecordArea.READINGS, "HealthReading")],
        description="Home readings of one kind, newest first (a chart's series, paged). The "
        "patient and proxies with HEALTH_SUMMARY; withheld from a parent of an adolescent.",
    )
    async def health_readings(
        self,
        info: Info,
        grant: PatientGrant,
        kind: ReadingKind,
        since: datetime | None = None,
        first: int | None = None,
        after: str | None = None,
    ) -> Connection[HealthReading] | None:
        return await records_s.health_readings(info, grant, kind, since, first, after)

    # -- self only (SELF_ONLY_FIELDS) -----------------------------------------------------
    @strawberry.field(description="Requests to send a copy of the record, newest first. Self only.")
    async def records_release_requests(self, info: Info) -> list[RecordsReleaseRequest] | None:
        return await records_s.release_requests(info, self.patient_id)

    @strawberry.field(description="Proxy access this patient has given. Self only.")
    async def proxy_grants(self, info: Info) -> list[ProxyGrant] | None:
        return await proxies_s.proxy_grants(info, self.patient_id)

    @strawberry.field(description="Who read or changed this record, newest first. Self only.")
    async def access_log(
        self, info: Info, first: int | None = None, after: str | None = None
    ) -> Connection[AccessLogEntry] | None:
        return await proxies_s.access_log(info, self.patient_id, first, after)

    @classmethod
    async def of(cls, info: Info, patient_id: str) -> Patient:
        """Any patient the viewer may act for; FORBIDDEN otherwise (same for unknown ids)."""
        row, today = await r.patient_row(info.context, patient_id)
        return cls.from_row(row, today)

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Patient:
        return await cls.of(info, row_id)

    @classmethod
    def from_row(cls, row: PatientRow, today: date) -> Patient:
        return cls(
            patient_id=row.id,
            pcp_provider_id=row.pcp_provider_id,
            mrn=row.mrn,
            name=PersonName(
                given=row.given_name,
                family=row.family_name,
                preferred=row.preferred_name,
                pronouns=row.pronouns,
            ),
            birth_date=row.birth_date,
            age=age_on(row.birth_date, today),
            sex=row.sex,
            email=row.email,
            phone=row.phone,
            address=Address.from_json(row.address),
        )


@strawberry.type
class ScopeAccess:
    """Whether one area of the record is open in this context, why not, and until when."""

    area: RecordArea
    scope: Scope
    allowed: bool
    reason: AccessReason | None
    changes_on: date | None = strawberry.field(
        description="The date this answer changes (e.g. the 12th birthday), if known."
    )
    changes_to: bool | None

    @classmethod
    def from_facts(cls, facts: AreaAccessFacts) -> ScopeAccess:
        return cls(
            area=facts.area,
            scope=facts.area.scope,
            allowed=facts.allowed,
            reason=facts.reason,
            changes_on=facts.changes_on,
            changes_to=facts.changes_to,
        )


def _scope_access(root: PatientContext) -> list[ScopeAccess]:
    return [ScopeAccess.from_facts(a) for a in root.facts.access]


def _sensitive_categories(root: PatientContext) -> list[SensitiveCategoryAccess]:
    return [
        SensitiveCategoryAccess(category=c.category, allowed=c.allowed, reason=c.reason)
        for c in root.facts.sensitive
    ]


# `access` and `sensitiveCategories` are made when a client asks for them: the home screens
# list the viewer's patients (a dozen areas and categories each) without them.
@strawberry.type
class PatientContext:
    relationship: Relationship
    scopes: list[Scope] = strawberry.field(
        description="Scopes the policy allows now (after age rules), not what the grant says."
    )
    expires_at: datetime | None
    access: list[ScopeAccess] = strawberry.field(resolver=_scope_access)
    sensitive_categories: list[SensitiveCategoryAccess] = strawberry.field(
        resolver=_sensitive_categories,
        description="Each sensitive category of clinical notes: open in this context, or why "
        "not (SENSITIVE_CATEGORY until the patient opens it to this proxy).",
    )
    patient_id: strawberry.Private[str]
    facts: strawberry.Private[PatientContextFacts]

    @strawberry.field
    async def patient(self, info: Info) -> Patient:
        return await Patient.of(info, self.patient_id)

    @strawberry.field(
        description="Notes the patient hid from every proxy (reason HIDDEN_BY_PATIENT); "
        "null where clinical notes are not readable in this context."
    )
    async def notes_hidden_by_patient(self, info: Info) -> int | None:
        return await notes_r.hidden_note_count(info.context, self.patient_id)

    @classmethod
    def from_facts(cls, facts: PatientContextFacts) -> PatientContext:
        return cls(
            patient_id=facts.patient_id,
            relationship=facts.relationship,
            scopes=list(facts.scopes),
            expires_at=facts.expires_at,
            facts=facts,
        )
