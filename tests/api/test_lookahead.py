"""A thread page loads its threads' first page of messages in the same statement when the
query asks one page size of them (schema/lookahead.py): the same answer as the messages'
own loader gives, for no statement of their own."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.builders import add_patient_with_lists
from tests.conftest import Portal, patient_gid

MESSAGES = "pageInfo { hasNextPage endCursor } nodes { id body sentAt readByMe }"
ONE_SIZE = f"""
query Threads($id: ID!, $m: Int) {{
  patient(id: $id) {{
    messageThreads(first: 3) {{ nodes {{ id ...M }} }}
  }}
}}
fragment M on MessageThread {{ messages(first: $m) {{ {MESSAGES} }} }}
"""
# Two page sizes of the same list: no look-ahead, each page from the messages' own loader.
TWO_SIZES = f"""
query Threads($id: ID!, $m: Int) {{
  patient(id: $id) {{
    messageThreads(first: 3) {{
      nodes {{
        id messages(first: $m) {{ {MESSAGES} }} other: messages(first: 100) {{ nodes {{ id }} }}
      }}
    }}
  }}
}}
"""
NO_MESSAGES = """
query Threads($id: ID!) { patient(id: $id) { messageThreads(first: 3) { nodes { id } } } }
"""


async def _ask(
    portal: Portal, token: str, query: str, variables: dict[str, Any]
) -> tuple[Any, int]:
    before = portal.statements
    result = await portal.gql(query, variables, token=token)
    assert "errors" not in result, result["errors"]
    return result["data"]["patient"]["messageThreads"]["nodes"], portal.statements - before


@pytest.mark.parametrize("size", [None, 1, 2, 0])
async def test_messages_loaded_with_their_threads_answer_as_their_own_loader(
    fresh_portal: Portal, size: int | None
) -> None:
    patient_id, account_id = await add_patient_with_lists(fresh_portal, "look", 4)
    token = await fresh_portal.token_for_account(account_id)
    variables = {"id": patient_gid(patient_id), "m": size}

    joined, joined_count = await _ask(fresh_portal, token, ONE_SIZE, variables)
    apart, apart_count = await _ask(fresh_portal, token, TWO_SIZES, variables)
    _, threads_only = await _ask(fresh_portal, token, NO_MESSAGES, {"id": variables["id"]})

    assert len(joined) == 3
    assert [t["messages"] for t in joined] == [t["messages"] for t in apart]
    expected = min(2, 20 if size is None else size)  # two messages a thread
    assert all(len(t["messages"]["nodes"]) == expected for t in joined)
    assert all(t["messages"]["pageInfo"]["hasNextPage"] == (expected < 2) for t in joined)
    # Newest first, as the messages' own loader orders them.
    assert all(
        [n["sentAt"] for n in t["messages"]["nodes"]]
        == sorted((n["sentAt"] for n in t["messages"]["nodes"]), reverse=True)
        for t in joined
    )
    assert joined_count == threads_only  # the messages cost no statement of their own
    assert apart_count > threads_only


async def test_a_refused_page_size_is_refused_as_without_look_ahead(fresh_portal: Portal) -> None:
    patient_id, account_id = await add_patient_with_lists(fresh_portal, "bad", 1)
    token = await fresh_portal.token_for_account(account_id)
    result = await fresh_portal.gql(ONE_SIZE, {"id": patient_gid(patient_id), "m": -1}, token=token)
    assert {e["extensions"]["code"] for e in result["errors"]} == {"BAD_USER_INPUT"}
