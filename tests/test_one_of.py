"""`persistence.paging.one_of`: one array parameter on PostgreSQL, an expanding IN elsewhere,
grouped so that NOT and OR around it keep their meaning."""

from __future__ import annotations

from typing import Any

from sqlalchemy import not_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Dialect

from persistence import models as m
from persistence.paging import one_of

_T = m.Appointment.__table__
_PG: Dialect = postgresql.dialect()  # type: ignore[no-untyped-call]
_SQLITE: Dialect = sqlite.dialect()


def _sql(stmt: Any, dialect: Dialect) -> str:
    return " ".join(str(stmt.compile(dialect=dialect)).split())


def test_postgresql_binds_one_array_whatever_the_length() -> None:
    stmt = select(_T.c.id).where(one_of(_T.c.patient_id, "ids"))
    sql = _sql(stmt, _PG)
    assert sql.endswith("WHERE (appointments.patient_id = ANY (%(ids)s::VARCHAR(40)[]))")


def test_sqlite_expands_an_in_list() -> None:
    stmt = select(_T.c.id).where(one_of(m.Appointment.patient_id, "ids"))
    sql = _sql(stmt, _SQLITE)
    assert sql.endswith("WHERE (appointments.patient_id IN (__[POSTCOMPILE_ids]))")


def test_negated_and_or_keep_their_meaning() -> None:
    stmt = select(_T.c.id).where((_T.c.duration_minutes > 1) | not_(one_of(_T.c.status, "s")))
    for dialect in (_PG, _SQLITE):
        assert "OR NOT (appointments.status" in _sql(stmt, dialect)


def test_statements_with_it_are_cached_by_shape() -> None:
    one = select(_T.c.id).where(one_of(_T.c.patient_id, "ids"))
    two = select(_T.c.id).where(one_of(_T.c.patient_id, "ids"))
    other = select(_T.c.id).where(one_of(_T.c.provider_id, "ids"))
    key_one, key_two = one._generate_cache_key(), two._generate_cache_key()
    key_other = other._generate_cache_key()
    assert key_one is not None
    assert key_two is not None
    assert key_other is not None
    assert key_one.key == key_two.key
    assert key_one.key != key_other.key


def test_first_rows_per_parent_are_a_lateral_index_walk_on_postgres() -> None:
    """On PostgreSQL a page of each parent is `unnest(:parents) JOIN LATERAL (... ORDER BY
    ... LIMIT :limit)`, whose plan is the same for any parameters (planned once per
    prepared statement, persistence/db.py); SQLite keeps the windowed form."""
    from sqlalchemy import select
    from sqlalchemy.dialects import postgresql, sqlite

    from persistence import models as m
    from persistence.paging import SortKey, _lateral_rows, _ranked_rows

    table = m.Appointment.__table__
    sort = SortKey((m.Appointment.starts_at, m.Appointment.id), descending=False)
    columns = [table.c.id, table.c.patient_id, table.c.starts_at]
    query = select(table).where(table.c.status == "scheduled")
    lateral = str(
        _lateral_rows(query, columns, table.c.patient_id, sort, False, ()).compile(
            dialect=postgresql.dialect()  # type: ignore[no-untyped-call]
        )
    )
    assert "unnest(" in lateral
    assert "JOIN LATERAL" in lateral
    assert "LIMIT" in lateral
    assert "row_number() OVER (ORDER BY appointments.starts_at" in lateral
    windowed = str(
        _ranked_rows(query, columns, table.c.patient_id, sort, False, ()).compile(
            dialect=sqlite.dialect()
        )
    )
    assert "LATERAL" not in windowed
    assert "PARTITION BY appointments.patient_id" in windowed
