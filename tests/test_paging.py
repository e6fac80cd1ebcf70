"""Pages make their cursors only when asked (a cursor costs several microseconds and most
clients read a connection's nodes), and then the same ones as made at once."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
import strawberry

from domain.paging import PageOf, encode_cursor
from schema import base
from schema.base import Connection

ROWS = [{"id": f"r{i}", "at": f"2026-01-0{i + 1}"} for i in range(3)]


class Counting:
    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, row: dict[str, Any]) -> str:
        self.calls += 1
        return encode_cursor([row["at"], row["id"]])


def test_cursors_are_made_when_asked_and_equal_the_eager_ones() -> None:
    made = Counting()
    lazy = PageOf(ROWS, True, cursor_of=made)
    assert made.calls == 0
    assert lazy.cursor(2) == encode_cursor([ROWS[2]["at"], ROWS[2]["id"]])
    assert made.calls == 1
    eager = PageOf(ROWS, True, [encode_cursor([r["at"], r["id"]]) for r in ROWS])
    assert lazy == eager
    assert lazy.cursors == eager.cursors


def test_a_mapped_page_keeps_the_cursors_of_the_rows_read() -> None:
    made = Counting()
    mapped = PageOf(ROWS, False, cursor_of=made).mapped(lambda row: row["id"].upper())
    assert mapped.rows == ["R0", "R1", "R2"]
    assert made.calls == 0
    assert mapped.cursors == [encode_cursor([r["at"], r["id"]]) for r in ROWS]


def test_a_page_has_cursors_or_a_way_to_make_them() -> None:
    with pytest.raises(TypeError):
        PageOf(ROWS, False)
    with pytest.raises(TypeError):
        PageOf(ROWS, False, [], cursor_of=str)


@strawberry.type
class Item:
    id: str


MADE = Counting()


@strawberry.type
class Query:
    @strawberry.field
    def items(self) -> Connection[Item]:
        return Connection.of(PageOf(ROWS, True, cursor_of=MADE), lambda row: Item(id=row["id"]))


SCHEMA = strawberry.Schema(query=Query)


def run(query: str) -> Any:
    MADE.calls = 0
    result = asyncio.run(SCHEMA.execute(query))
    assert result.errors is None
    return result.data


def test_a_connection_makes_only_the_cursors_its_client_asks_for() -> None:
    assert run("{ items { nodes { id } } }") == {
        "items": {"nodes": [{"id": f"r{i}"} for i in range(3)]}
    }
    assert MADE.calls == 0
    edges = run("{ items { edges { cursor node { id } } } }")["items"]["edges"]
    assert [e["cursor"] for e in edges] == [encode_cursor([r["at"], r["id"]]) for r in ROWS]
    assert MADE.calls == 3
    info = run("{ items { pageInfo { hasNextPage startCursor endCursor } } }")["items"]
    assert info["pageInfo"] == {
        "hasNextPage": True,
        "startCursor": encode_cursor([ROWS[0]["at"], ROWS[0]["id"]]),
        "endCursor": encode_cursor([ROWS[2]["at"], ROWS[2]["id"]]),
    }
    assert MADE.calls == 2


def test_a_connection_makes_edges_only_when_its_client_asks_for_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[Any] = []
    real = base.Edge

    def counting(**fields: Any) -> Any:
        edge = real(**fields)
        made.append(edge)
        return edge

    monkeypatch.setattr(base, "Edge", counting)
    assert run("{ items { nodes { id } pageInfo { hasNextPage } } }")["items"]["nodes"] == [
        {"id": f"r{i}"} for i in range(3)
    ]
    assert made == []
    both = run("{ items { nodes { id } edges { node { id } } } }")["items"]
    assert [e["node"] for e in both["edges"]] == both["nodes"]
    assert len(made) == 3
