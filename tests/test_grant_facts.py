"""persistence.queries.people.grant_facts: a grant row's stored values as the enums'
members, looked up by value, exactly as the enums' constructors make them."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from domain.scopes import GrantStatus, Relationship, Scope, SensitiveCategory
from persistence.queries.people import GrantRow, grant_facts

STARTS = datetime(2026, 1, 1, tzinfo=UTC)
BORN = date(2015, 5, 1)


def _row(**values: Any) -> GrantRow:
    row = GrantRow("g-1", "pat-1", "parent", ["appointments"], "active", STARTS, None, None)
    return row._replace(**values)


@pytest.mark.parametrize("relationship", [r.value for r in Relationship])
def test_every_stored_value_is_its_member(relationship: str) -> None:
    row = _row(
        relationship=relationship,
        scopes=[s.value for s in Scope],
        opened_note_categories=[c.value for c in SensitiveCategory],
    )
    for status in GrantStatus:
        facts = grant_facts(row._replace(status=status.value), date(2015, 5, 1))
        assert facts.relationship is Relationship(relationship)
        assert facts.status is status
        assert facts.scopes == frozenset(Scope)
        assert facts.opened_categories == frozenset(SensitiveCategory)


def test_unknown_categories_are_left_out_and_unknown_values_fail_as_the_enums_do() -> None:
    facts = grant_facts(_row(opened_note_categories=["no-such", "substance_use"]), BORN)
    assert facts.opened_categories == frozenset(
        c for c in SensitiveCategory if c.value == "substance_use"
    )
    assert grant_facts(_row(opened_note_categories=None), BORN).opened_categories == set()
    for bad in ({"relationship": "uncle"}, {"scopes": ["everything"]}, {"status": "maybe"}):
        with pytest.raises(ValueError, match="is not a valid"):
            grant_facts(_row(**bad), BORN)
