"""One password or code checked per HTTP request: aliases, fragments and the operations of a
batch beyond the first answer ONE_CREDENTIAL_PER_REQUEST and are not processed."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import ALEX, DEMO_PASSWORD, Portal

WRONG = "not-the-password-2026"
CAPPED = "ONE_CREDENTIAL_PER_REQUEST"


def sign_in_field(alias: str, password: str) -> str:
    return (
        f'{alias}: signIn(input: {{username: "{ALEX}", password: "{password}"}}) '
        "{ accessToken errors { code } }"
    )


async def post(portal: Portal, body: Any, token: str | None = None) -> Any:
    headers = {"authorization": f"Bearer {token}"} if token else {}
    response = await portal.client.post("/graphql", json=body, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def codes(payload: dict[str, Any]) -> list[str]:
    return [e["code"] for e in payload["errors"]]


async def signs_in(portal: Portal) -> bool:
    body = await post(portal, {"query": "mutation { " + sign_in_field("a", DEMO_PASSWORD) + " }"})
    return bool(body["data"]["a"]["accessToken"])


async def test_ten_aliased_sign_ins_check_one_password(fresh_portal: Portal) -> None:
    fields = " ".join(sign_in_field(f"guess{i}", WRONG) for i in range(10))
    body = await post(fresh_portal, {"query": f"mutation {{ {fields} }}"})
    answers = [body["data"][f"guess{i}"] for i in range(10)]
    assert codes(answers[0]) == ["INVALID_CREDENTIALS"]
    assert [codes(a) for a in answers[1:]] == [[CAPPED]] * 9
    # Ten wrong passwords would have locked the account (5 do); only one was counted.
    assert await signs_in(fresh_portal)


async def test_the_right_password_among_aliases_is_not_found_by_a_later_one(
    fresh_portal: Portal,
) -> None:
    fields = sign_in_field("first", WRONG) + " " + sign_in_field("second", DEMO_PASSWORD)
    body = await post(fresh_portal, {"query": f"mutation {{ {fields} }}"})
    assert codes(body["data"]["first"]) == ["INVALID_CREDENTIALS"]
    assert body["data"]["second"] == {"accessToken": None, "errors": [{"code": CAPPED}]}


async def test_through_fragments_too(fresh_portal: Portal) -> None:
    query = (
        "mutation { ...A ...B } fragment A on Mutation { "
        + sign_in_field("a", WRONG)
        + " } fragment B on Mutation { "
        + sign_in_field("b", DEMO_PASSWORD)
        + " }"
    )
    body = await post(fresh_portal, {"query": query})
    assert codes(body["data"]["a"]) == ["INVALID_CREDENTIALS"]
    assert codes(body["data"]["b"]) == [CAPPED]


async def test_a_batch_checks_one_password(fresh_portal: Portal) -> None:
    one = {"query": "mutation { " + sign_in_field("a", WRONG) + " }"}
    answers = await post(fresh_portal, [one] * 6)
    assert codes(answers[0]["data"]["a"]) == ["INVALID_CREDENTIALS"]
    assert [codes(a["data"]["a"]) for a in answers[1:]] == [[CAPPED]] * 5
    assert await signs_in(fresh_portal)  # six wrong passwords would have locked it


# Every other mutation that checks a secret, each with an input of the right shape.
OTHERS = {
    "activateAccount": '{activationCode: "ABCD-EFGH-JKMN", birthDate: "1990-01-01", '
    'username: "new.person", password: "a-long-enough-password"}',
    "signUpWithoutCode": '{givenName: "Alex", familyName: "Rivera", birthDate: "1990-01-01", '
    'mrn: "MRN0000001"}',
    "verifySignUp": '{verificationId: "x", code: "123456", username: "new.person", '
    'password: "a-long-enough-password"}',
    "resetPassword": '{token: "not-a-token", newPassword: "a-long-enough-password"}',
    "changePassword": f'{{currentPassword: "{DEMO_PASSWORD}", '
    'newPassword: "a-brand-new-password-2026"}',
    "enableTotp": f'{{currentPassword: "{DEMO_PASSWORD}"}}',
    "confirmTotp": '{code: "123456"}',
    "disableTotp": f'{{password: "{DEMO_PASSWORD}"}}',
    "confirmEmailChange": '{patientId: "x", code: "123456"}',
    "acceptProxyInvitation": '{token: "not-a-token"}',
}


@pytest.mark.parametrize("mutation", sorted(OTHERS))
async def test_every_credential_mutation_after_the_first_is_refused(
    fresh_portal: Portal, mutation: str
) -> None:
    second = f"second: {mutation}(input: {OTHERS[mutation]}) {{ errors {{ code }} }}"
    query = "mutation { " + sign_in_field("first", WRONG) + " " + second + " }"
    body = await post(fresh_portal, {"query": query}, await fresh_portal.token(ALEX))
    assert codes(body["data"]["first"]) == ["INVALID_CREDENTIALS"]
    assert codes(body["data"]["second"]) == [CAPPED]


async def test_a_refused_change_is_not_made(fresh_portal: Portal) -> None:
    second = f"second: changePassword(input: {OTHERS['changePassword']}) {{ errors {{ code }} }}"
    query = "mutation { " + sign_in_field("first", WRONG) + " " + second + " }"
    body = await post(fresh_portal, {"query": query}, await fresh_portal.token(ALEX))
    assert codes(body["data"]["second"]) == [CAPPED]
    assert await signs_in(fresh_portal)  # the old password still works


async def test_one_per_request_not_per_client(fresh_portal: Portal) -> None:
    """The cap is per request: the next request checks its own one."""
    for _ in range(2):
        body = await post(fresh_portal, {"query": "mutation { " + sign_in_field("a", WRONG) + " }"})
        assert codes(body["data"]["a"]) == ["INVALID_CREDENTIALS"]
    assert await signs_in(fresh_portal)
