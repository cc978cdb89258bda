"""Trace context at the ingress: kept with the event, never part of its idempotency fingerprint,
and a malformed traceparent is ignored (no 4xx). Tracing is off in this process: what comes in
still passes through to the record."""

from __future__ import annotations

from tests.conftest import Ingress
from tests.helpers import start_event

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


def traceparent(span_id: str) -> str:
    return f"00-{TRACE_ID}-{span_id}-01"


async def test_the_header_is_kept_and_shown_as_trace_id(ingress: Ingress) -> None:
    response = await ingress.post_event(
        start_event("exp_1"), headers={"traceparent": traceparent("00f067aa0ba902b7")}
    )
    assert response.status == 202
    record = await ingress.get_record((await response.json())["id"])
    assert record["trace_id"] == TRACE_ID and "trace_context" not in record


async def test_a_malformed_traceparent_is_ignored(ingress: Ingress) -> None:
    response = await ingress.post_event(start_event("exp_1"), headers={"traceparent": "0-x-y"})
    assert response.status == 202
    record = await ingress.get_record((await response.json())["id"])
    assert record["trace_id"] is None


async def test_binary_mode_ce_traceparent_is_not_in_the_fingerprint(ingress: Ingress) -> None:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": "ce-7",
        "ce-source": "/growth",
        "ce-type": "experiment.start",
    }
    body = start_event("exp_1")["data"]
    first = await ingress.post_event(
        body, headers={**headers, "ce-traceparent": traceparent("1111111111111111")}
    )
    again = await ingress.post_event(
        body, headers={**headers, "ce-traceparent": traceparent("2222222222222222")}
    )
    assert (first.status, again.status) == (202, 202)
    assert again.headers.get("Idempotent-Replayed") == "true"
    assert (await again.json())["id"] == (await first.json())["id"]
    # Another ce-* attribute still makes it another request.
    other = await ingress.post_event(body, headers={**headers, "ce-subject": "x"})
    assert other.status == 422
