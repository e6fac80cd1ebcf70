"""domain.results: `flags_of` (a list of components in one loop) flags each reading as
`flag_of` flags it, for every kind of value and range."""

from __future__ import annotations

import itertools
from typing import NamedTuple

from domain.results import flag_of, flags_of


class Reading(NamedTuple):
    value: float | None
    ref_low: float | None
    ref_high: float | None


def test_flags_of_agrees_with_flag_of() -> None:
    values = [None, -1.0, 0.0, 70.0, 85.0, 99.0, 250.0, float("nan"), float("inf")]
    bounds = [None, 0.0, 70.0, 99.0, float("nan")]
    readings = [Reading(*t) for t in itertools.product(values, bounds, bounds)]
    assert flags_of(readings) == [flag_of(r.value, r.ref_low, r.ref_high) for r in readings]
    assert len({f for f in flags_of(readings) if f is not None}) == 3  # LOW, HIGH, NORMAL
    assert flags_of([]) == []
