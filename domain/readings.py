"""Home health readings for remote monitoring: which units each kind takes, and what is
plausible. A refused reading is a `DomainError` naming the input field at fault.

Values are kept as the patient entered them (value and unit); the plausible ranges are
checked after converting to one unit per kind, so 5.5 mmol/L and 99 mg/dL are judged alike.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum

from domain.errors import DomainError


class ReadingKind(Enum):
    BLOOD_GLUCOSE = "blood_glucose"
    BLOOD_PRESSURE = "blood_pressure"
    WEIGHT = "weight"


# The units each kind accepts (canonical spelling) and the factor to the kind's first unit.
UNITS: dict[ReadingKind, dict[str, float]] = {
    ReadingKind.BLOOD_GLUCOSE: {"mg/dL": 1.0, "mmol/L": 18.016},
    ReadingKind.BLOOD_PRESSURE: {"mmHg": 1.0},
    ReadingKind.WEIGHT: {"kg": 1.0, "lb": 0.45359237},
}

# Plausible values in the kind's first unit: wider than clinical ranges (a meter reads
# 20-600 mg/dL), narrow enough to catch a slipped decimal point or a unit mix-up.
GLUCOSE_MG_DL = (10.0, 1000.0)
WEIGHT_KG = (0.3, 650.0)
SYSTOLIC_MM_HG = (50, 300)
DIASTOLIC_MM_HG = (20, 200)

# Device clocks drift: a reading a few minutes "ahead" of ours is not from the future.
CLOCK_SKEW = timedelta(minutes=5)


class UnitNotAllowed(DomainError):
    code = "UNIT_NOT_ALLOWED"


class ValueRequired(DomainError):
    code = "VALUE_REQUIRED"


class ValueNotAllowed(DomainError):
    code = "VALUE_NOT_ALLOWED"


class ImplausibleValue(DomainError):
    code = "IMPLAUSIBLE_VALUE"


class TimeZoneRequired(DomainError):
    code = "TIME_ZONE_REQUIRED"
    default_message = "Give the time the reading was taken with its time zone or offset."


class TakenInFuture(DomainError):
    code = "TAKEN_IN_FUTURE"
    default_message = "A reading cannot be taken in the future."


@dataclass(frozen=True)
class Reading:
    """A checked reading: `value` for glucose and weight, systolic/diastolic for pressure."""

    kind: ReadingKind
    unit: str
    taken_at: datetime
    value: float | None = None
    systolic: int | None = None
    diastolic: int | None = None


def canonical_unit(kind: ReadingKind, unit: str) -> str:
    """The accepted spelling of `unit` for `kind` (case does not matter), or UnitNotAllowed."""
    for allowed in UNITS[kind]:
        if unit.strip().lower() == allowed.lower():
            return allowed
    names = " or ".join(UNITS[kind])
    label = kind.name.replace("_", " ").lower()
    raise UnitNotAllowed(f"A {label} reading is in {names}.", "unit")


def convert(kind: ReadingKind, value: float, unit: str, to: str) -> float:
    """`value` in `unit` expressed in `to` (both units of `kind`; UnitNotAllowed otherwise),
    rounded to what a meter or scale shows: mg/dL whole, mmol/L, kg and lb to 0.1."""
    target = canonical_unit(kind, to)
    converted = value * UNITS[kind][canonical_unit(kind, unit)] / UNITS[kind][target]
    return round(converted, 0 if target == "mg/dL" else 1)


def check_reading(
    *,
    kind: ReadingKind,
    unit: str,
    taken_at: datetime,
    now: datetime,
    value: float | None = None,
    systolic: int | None = None,
    diastolic: int | None = None,
) -> Reading:
    """The reading if it can be stored; the first problem found otherwise."""
    unit = canonical_unit(kind, unit)
    if taken_at.tzinfo is None:
        raise TimeZoneRequired(field="takenAt")
    if taken_at > now + CLOCK_SKEW:
        raise TakenInFuture(field="takenAt")
    if kind is ReadingKind.BLOOD_PRESSURE:
        return _pressure(unit, taken_at, value, systolic, diastolic)
    if systolic is not None or diastolic is not None:
        field = "systolic" if systolic is not None else "diastolic"
        raise ValueNotAllowed("Systolic and diastolic are for blood pressure only.", field)
    if value is None:
        raise ValueRequired("Enter the reading's value.", "value")
    low, high = GLUCOSE_MG_DL if kind is ReadingKind.BLOOD_GLUCOSE else WEIGHT_KG
    factor = UNITS[kind][unit]
    if not math.isfinite(value) or not low <= value * factor <= high:
        raise ImplausibleValue(
            f"{value:g} {unit} is outside the plausible range "
            f"{low / factor:.3g}-{high / factor:.4g} {unit}; check the value and unit.",
            "value",
        )
    return Reading(kind, unit, taken_at, value=value)


def _pressure(
    unit: str, taken_at: datetime, value: float | None, systolic: int | None, diastolic: int | None
) -> Reading:
    if value is not None:
        raise ValueNotAllowed("Enter blood pressure as systolic and diastolic.", "value")
    if systolic is None:
        raise ValueRequired("Enter the systolic (upper) number.", "systolic")
    if diastolic is None:
        raise ValueRequired("Enter the diastolic (lower) number.", "diastolic")
    for number, (low, high), field in (
        (systolic, SYSTOLIC_MM_HG, "systolic"),
        (diastolic, DIASTOLIC_MM_HG, "diastolic"),
    ):
        if not low <= number <= high:
            raise ImplausibleValue(
                f"A {field} pressure of {number} mmHg is outside {low}-{high} mmHg.", field
            )
    if diastolic >= systolic:
        raise ImplausibleValue("The diastolic number must be below the systolic.", "diastolic")
    return Reading(
        ReadingKind.BLOOD_PRESSURE, unit, taken_at, systolic=systolic, diastolic=diastolic
    )
