"""schema/construct.py: the home screens' objects built by `maker` are the objects their
dataclass `__init__` builds (every field, nothing else), enums from stored values are the
members `Enum(value)` gives, and the cheaper global ids and Money are the same strings."""

from __future__ import annotations

import base64
import dataclasses
import importlib
from enum import Enum
from typing import Any

import pytest
import strawberry

from domain import money
from domain.results import Flag
from persistence.queries.results import ComponentRow, component_of
from schema.base import from_global_id, to_global_id
from schema.construct import enum_of, maker
from schema.enums import AppointmentStatus, MessageCategory, ResultKind, ResultStatus
from schema.messages import SenderKind
from schema.money import Money
from schema.results import ReferenceRange, ResultComponent

# Every module-level maker of the schema, as (module, name).
MAKERS = [
    ("schema.results", "_range"),
    ("schema.results", "_result"),
    ("schema.messages", "_message"),
    ("schema.messages", "_sender"),
    ("schema.messages", "_thread"),
    ("schema.billing", "_statement"),
    ("schema.billing", "_line_item"),
    ("schema.money", "cents"),
    ("schema.appointments", "_appointment"),
]


@pytest.mark.parametrize(("module", "name"), MAKERS)
def test_a_maker_sets_every_field_its_init_would(module: str, name: str) -> None:
    make = getattr(importlib.import_module(module), name)
    cls_name = make.__qualname__.removeprefix("maker(").removesuffix(")")
    cls = getattr(importlib.import_module(module), cls_name)
    names = make.__code__.co_varnames[: make.__code__.co_argcount]
    values = [object() for _ in names]
    made = make(*values)
    by_init = cls(**dict(zip(names, values, strict=True)))
    assert type(made) is cls
    assert vars(made) == vars(by_init)
    assert made == by_init


def test_the_component_of_a_row_is_as_the_dataclass_builds_it() -> None:
    prefix: tuple[Any, ...] = tuple(range(13))  # the result's columns of `result_pages`
    row = component_of(
        (*prefix, "res-1", "pat-1", "2345-7", "Glucose", 250.0, None, "mg/dL", 70.0, 99.0)
    )
    assert isinstance(row, ComponentRow)
    assert row.value == 250.0
    assert row.ref_high == 99.0
    assert component_of((*prefix, *[None] * 9)) is None
    made = ResultComponent.from_row(row)
    by_init = ResultComponent(
        code="2345-7",
        name="Glucose",
        value=250.0,
        value_text=None,
        unit="mg/dL",
        reference_range=ReferenceRange(low=70.0, high=99.0),
        flag=Flag.HIGH,
    )
    assert made == by_init
    # every field __init__ sets, nothing else (`of_rows` makes them without it)
    assert type(made) is ResultComponent
    assert vars(made) == vars(by_init)
    assert type(made.reference_range) is ReferenceRange
    assert vars(made.reference_range) == vars(by_init.reference_range)
    no_range = ResultComponent.from_row(row._replace(ref_low=None, ref_high=None, value=None))
    assert no_range.reference_range is None
    assert no_range.flag is None
    assert ResultComponent.of_rows(
        [row, row._replace(ref_low=None, ref_high=None, value=None)]
    ) == [
        made,
        no_range,
    ]
    assert ReferenceRange.of(None, 5.0) == ReferenceRange(low=None, high=5.0)
    assert ReferenceRange.of(None, None) is None


def test_maker_refuses_what_would_differ_from_init() -> None:
    @strawberry.type
    class Two:
        a: int
        b: str | None = None

    assert maker(Two, "b", "a")("x", 1) == Two(a=1, b="x")
    with pytest.raises(TypeError, match="exactly"):
        maker(Two, "a")  # b would be missing
    with pytest.raises(TypeError, match="exactly"):
        maker(Two, "a", "b", "c")
    with pytest.raises(TypeError, match="exactly"):
        maker(Two, "a", "a")

    @dataclasses.dataclass(frozen=True)
    class Frozen:
        a: int

    @dataclasses.dataclass
    class Post:
        a: int

        def __post_init__(self) -> None:
            self.a += 1

    @dataclasses.dataclass(slots=True)
    class Slotted:
        a: int

    @dataclasses.dataclass
    class Computed:
        a: int
        b: list[int] = dataclasses.field(init=False, default_factory=list)

    for cls in (Frozen, Post, Slotted, Computed):
        with pytest.raises(TypeError):
            maker(cls, "a")
    with pytest.raises(TypeError):
        maker(int, "real")


@pytest.mark.parametrize(
    "cls", [SenderKind, MessageCategory, ResultKind, ResultStatus, AppointmentStatus]
)
def test_enum_of_is_enum_by_value(cls: type[Enum]) -> None:
    of = enum_of(cls)
    for member in cls:
        assert of(member.value) is cls(member.value)
    with pytest.raises(ValueError, match="is not a valid"):
        of("no such value")


@pytest.mark.parametrize(
    "internal", ["a", "ab", "abc", "res-0001234", "é~ü?>", "x" * 77, "a:b", "?>?>"]
)
def test_global_ids_are_urlsafe_base64_unpadded(internal: str) -> None:
    made = to_global_id("Result", internal)
    expected = base64.urlsafe_b64encode(f"Result:{internal}".encode()).decode().rstrip("=")
    assert made == expected
    assert type(made) is str
    assert from_global_id(made) == ("Result", internal)


@pytest.mark.parametrize("cents", [0, 5, -5, 99, 100, 123456, -123456, 10**9])
@pytest.mark.parametrize("currency", ["USD", "EUR"])
def test_money_cents_formats_as_the_domain_does(cents: int, currency: str) -> None:
    value = money.Money(cents, currency)
    made = Money.cents(cents, currency)
    assert made == Money(amount_cents=cents, currency=currency)
    assert made.formatted() == value.formatted  # formatted when asked
    assert Money.of(value) == made


def test_a_line_items_amounts_are_the_money_its_init_makes() -> None:
    from types import SimpleNamespace

    from schema.billing import StatementLineItem

    line = SimpleNamespace(
        service_date=None,
        description="Visit",
        code="99213",
        charge_cents=15000,
        insurance_paid_cents=9000,
        adjustment_cents=-500,
        patient_cents=5500,
    )
    row = SimpleNamespace(
        line=line,
        currency="USD",
        patient_given="Ann",
        patient_preferred=None,
        patient_family="Lee",
    )
    made = StatementLineItem.from_row(row)  # type: ignore[arg-type]
    amounts = [made.charge, made.insurance_paid, made.adjustment, made.patient_responsibility]
    expected = [Money(amount_cents=c, currency="USD") for c in (15000, 9000, -500, 5500)]
    assert [type(a) for a in amounts] == [Money] * 4
    assert [vars(a) for a in amounts] == [vars(e) for e in expected]
    assert made.patient_name == "Ann Lee"


def test_a_connection_is_what_its_init_makes() -> None:
    from domain.paging import PageOf
    from schema.base import Connection

    page = PageOf(["r1", "r2"], False, ["c1", "c2"])
    by_init: Connection[str] = Connection(page=page, node_list=["R1", "R2"])
    for made in (Connection.of(page, str.upper), Connection.of_each(page, str.__add__, "!")):
        assert type(made) is Connection
        assert made.page is page
        assert sorted(vars(made)) == sorted(vars(by_init))
    assert Connection.of(page, str.upper).node_list == ["R1", "R2"]
    assert Connection.of_each(page, str.__add__, "!").node_list == ["r1!", "r2!"]
