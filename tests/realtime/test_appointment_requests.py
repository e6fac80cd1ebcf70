"""appointmentRequestChanged: a request made through the API and the clinic's answer through
the EHR feed reach the open subscriptions of who may read the patient's appointments."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from schema.base import from_global_id
from tests.conftest import Database, patient_gid
from tests.realtime.conftest import StartServer
from tests.realtime.harness import ACCOUNTS, Client, Family, token_for

CHANGED = """subscription($patientId: ID, $afterSeq: ID) {
  appointmentRequestChanged(patientId: $patientId, afterSeq: $afterSeq) {
    seq patient { id } request { id status appointment { id status } }
  }
}"""
REQUEST = """mutation($input: RequestAppointmentInput!) {
  requestAppointment(input: $input) { request { id } errors { code } }
}"""


async def test_a_request_and_its_answer_arrive_live(
    start_server: StartServer, people: Family, live_db: Database
) -> None:
    server = await start_server()
    alex = await Client.connect(server, token_for(ACCOUNTS["alex"]))
    jordan = await Client.connect(server, token_for(ACCOUNTS["jordan"]))
    since = await server.seq()
    mine = await alex.subscribe(CHANGED, {"patientId": patient_gid(people.mia)}, after=since)
    his = await jordan.subscribe(CHANGED, after=since)

    variables = {
        "input": {"patientId": patient_gid(people.mia), "visitType": "New Patient", "reason": "x"}
    }
    made = await server.gql(REQUEST, variables, token_for(ACCOUNTS["alex"]))
    assert made["data"]["requestAppointment"]["errors"] == [], made
    request_id = made["data"]["requestAppointment"]["request"]["id"]
    for client, op in ((alex, mine), (jordan, his)):
        event = (await client.data(op))["appointmentRequestChanged"]
        assert event["request"] == {"id": request_id, "status": "REQUESTED", "appointment": None}
        assert event["patient"] == {"id": patient_gid(people.mia)}

    starts = datetime.now(UTC) + timedelta(days=9)
    await server.post_event(
        {
            "id": f"evt-{uuid.uuid4().hex}",
            "type": "APPOINTMENT_REQUEST_ANSWERED",
            "occurredAt": datetime.now(UTC).isoformat(),
            "data": {
                # The request made above (the demo data has requests of its own).
                "requestId": from_global_id(request_id)[1],
                "status": "SCHEDULED",
                "appointment": {
                    "appointmentId": "apt-live-apr",
                    "startsAt": starts.isoformat(),
                    "durationMinutes": 30,
                    "providerId": "prv-00001",
                    "departmentId": "dep-001",
                },
            },
        }
    )
    for client, op in ((alex, mine), (jordan, his)):
        event = (await client.data(op))["appointmentRequestChanged"]
        assert event["request"]["status"] == "SCHEDULED"
        assert event["request"]["appointment"]["status"] == "SCHEDULED"
