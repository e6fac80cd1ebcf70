"""Providers, departments and the signed-in account (no PHI here)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import strawberry

from resolvers import people as r
from resolvers import viewer as viewer_r
from schema.base import BadInput, Connection, Info, Node, cursor_values, page_size

if TYPE_CHECKING:
    from persistence import models as m
    from persistence.queries.people import AccountRow, DepartmentRow, ProviderRow


@strawberry.type
class Address:
    line1: str
    line2: str | None
    city: str
    state: str
    postal_code: str

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> Address | None:
        if not data:
            return None
        return cls(
            line1=data["line1"],
            line2=data.get("line2"),
            city=data["city"],
            state=data["state"],
            postal_code=data["postal_code"],
        )


@strawberry.type
class Department(Node):
    name: str
    facility: str
    specialty: str
    address: Address | None
    phone: str
    timezone: str
    internal_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Department | None:
        return await cls.by_id(info, row_id)

    @classmethod
    async def by_id(cls, info: Info, department_id: str | None) -> Department | None:
        """A department by id (batched); None for no id or an unknown one."""
        row = await r.department(info.context, department_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: m.Department | DepartmentRow) -> Department:
        return cls(
            internal_id=row.id,
            name=row.name,
            facility=row.facility,
            specialty=row.specialty,
            address=Address.from_json(row.address),
            phone=row.phone,
            timezone=row.timezone,
        )


@strawberry.type
class Provider(Node):
    name: str = strawberry.field(
        description='Display name with credentials, e.g. "Priya Shah, MD".'
    )
    given_name: str
    family_name: str
    credentials: str
    specialty: str
    accepts_new_patients: bool
    internal_id: strawberry.Private[str]
    department_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Provider | None:
        return await cls.by_id(info, row_id)

    @classmethod
    async def by_id(cls, info: Info, provider_id: str | None) -> Provider | None:
        """A provider by id (batched); None for no id or an unknown one."""
        row = await r.provider(info.context, provider_id)
        return cls.from_row(row) if row else None

    @strawberry.field
    async def department(self, info: Info) -> Department | None:
        return await Department.by_id(info, self.department_id)

    @classmethod
    def from_row(cls, row: m.Provider | ProviderRow) -> Provider:
        return cls(
            internal_id=row.id,
            department_id=row.department_id,
            name=row.display_name,
            given_name=row.given_name,
            family_name=row.family_name,
            credentials=row.credentials,
            specialty=row.specialty,
            accepts_new_patients=row.accepts_new_patients,
        )


@strawberry.type
class Account(Node):
    username: str
    email: str
    display_name: str
    last_sign_in_at: datetime | None
    internal_id: strawberry.Private[str]

    def node_id(self) -> str:
        return self.internal_id

    @classmethod
    async def fetch_node(cls, info: Info, row_id: str) -> Account | None:
        row = await viewer_r.own_account(info.context, row_id)
        return cls.from_row(row) if row else None

    @classmethod
    def from_row(cls, row: AccountRow) -> Account:
        return cls(
            internal_id=row.id,
            username=row.username,
            email=row.email,
            display_name=row.display_name,
            last_sign_in_at=row.last_login_at,
        )


@strawberry.type(description="Who entered something into a patient's record from the portal.")
class EnteredBy:
    name: str = strawberry.field(description="The account's display name.")
    is_patient: bool = strawberry.field(
        description="True when the patient entered it themself; false for a proxy."
    )

    @classmethod
    async def by_id(cls, info: Info, account_id: str, patient_id: str) -> EnteredBy | None:
        """The account that entered a row of `patient_id`'s record (batched)."""
        row = await r.account(info.context, account_id)
        if row is None:
            return None
        return cls(name=row.display_name, is_patient=row.patient_id == patient_id)


MAX_SEARCH = 200  # longer than any name or specialty in the directory


async def providers(
    info: Info, search: str | None, first: int | None, after: str | None
) -> Connection[Provider]:
    """Query.providers: the directory, a page at a time."""
    if search is not None and len(search) > MAX_SEARCH:
        # SQLite refuses a LIKE pattern past 50,000 bytes ("pattern too complex"): a 500.
        raise BadInput(f"`search` is at most {MAX_SEARCH} characters.")
    size, after_values = page_size(first), cursor_values(after, [str, str])
    page = await r.providers(info.context, search, size, after_values)
    return Connection.of(page, Provider.from_row)
