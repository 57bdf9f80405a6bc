"""Runs submitted and read in the usual shape take a shortcut past FastAPI's reading of the
request (api.shortcuts); every other shape is read by FastAPI. Either way the answer is the
same and the request draws on the rate limit once."""

from __future__ import annotations

import json

from tests.api.test_security import assert_error_shape
from tests.conftest import ApiClient, Service

RUN = {"data": {"action": "testkit.noop", "inputs": {}}}


async def test_a_run_is_submitted_alike_whichever_way_its_request_is_read(
    service: Service, acme: ApiClient
) -> None:
    body = json.dumps(RUN).encode()
    shapes = {
        "usual": {"Content-Type": "application/json"},
        "with a charset": {"Content-Type": "application/json; charset=utf-8"},
        "a +json type": {"Content-Type": "application/vnd.api+json"},
    }
    for shape, headers in shapes.items():
        response = await service.http.post(
            "/v2/action-runs", content=body, headers={**acme.headers, **headers}
        )
        assert response.status_code == 200, (shape, response.text)
        assert response.json()["data"]["type"] == "run"
        assert response.headers["Location"] == f"/v2/action-runs/{response.json()['data']['id']}"


async def test_the_body_is_read_as_fastapi_reads_it(service: Service, acme: ApiClient) -> None:
    """Integers past 64 bits stay integers and a byte order mark is allowed, as with the
    standard library's parser (orjson would give a float and a refusal)."""
    big = 2**70 + 1  # no float holds it
    body = {"data": {"action": "testkit.noop", "inputs": {"value": "big", "count": big}}}
    for encoded in (json.dumps(body).encode(), b"\xef\xbb\xbf" + json.dumps(body).encode()):
        response = await service.http.post(
            "/v2/action-runs",
            content=encoded,
            headers={**acme.headers, "Content-Type": "application/json"},
        )
        assert response.status_code == 200, response.text
        run = await service.engine.store.get_run(response.json()["data"]["id"])
        assert run is not None and run.inputs["count"] == big
        assert isinstance(run.inputs["count"], int)


async def test_a_bad_body_or_header_is_judged_as_before(service: Service, acme: ApiClient) -> None:
    post = service.http.post
    not_an_object = await post("/v2/action-runs", json=[RUN], headers=acme.headers)
    assert not_an_object.status_code == 400
    assert_error_shape(not_an_object.json(), 400)
    not_json = await post(
        "/v2/action-runs",
        content=b'{"data": ',
        headers={**acme.headers, "Content-Type": "application/json"},
    )
    assert not_json.status_code == 400
    assert not_json.json()["errors"][0]["code"] == "parse_error"
    too_long = await post(
        "/v2/action-runs", json=RUN, headers={**acme.headers, "Idempotency-Key": "k" * 256}
    )
    assert too_long.status_code == 400
    assert too_long.json()["errors"][0]["source"] == {"header": "idempotency-key"}
    longest = await post(
        "/v2/action-runs", json=RUN, headers={**acme.headers, "Idempotency-Key": "k" * 255}
    )
    assert longest.status_code == 200
    no_token = await post("/v2/action-runs", json=RUN)
    assert no_token.status_code == 401
    assert_error_shape(no_token.json(), 401)


async def test_wait_seconds_is_read_alike_in_any_spelling(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.sleep", {"seconds": 5, "key": "shortcut-wait"})
    plain = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": "0.05"})
    exponent = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": "5e-2"})
    beside_another = await acme.get(f"/v2/action-runs/{run_id}?wait_seconds=0.05&unknown=1")
    for answer in (plain, exponent, beside_another):
        assert answer.status_code == 202, answer.text
        assert answer.json()["data"]["id"] == run_id
        assert answer.headers["Retry-After"] == "1"
    for out_of_range in ("60.000001", "61", "-1", "soon"):
        refused = await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": out_of_range})
        assert refused.status_code == 400, (out_of_range, refused.text)
        assert refused.json()["errors"][0]["source"] == {"parameter": "wait_seconds"}
    too_long_id = await acme.get("/v2/action-runs/" + "r" * 65)
    assert too_long_id.status_code == 400
    assert_error_shape(too_long_id.json(), 400)


async def test_each_request_draws_on_the_rate_limit_once(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.noop")
    answers = [
        await acme.post("/v2/action-runs", json=RUN),  # shortcut
        await acme.post("/v2/action-runs", json=[RUN]),  # FastAPI: not an object
        await acme.get(f"/v2/action-runs/{run_id}"),  # shortcut
        await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": "1e0"}),  # FastAPI
        await acme.get(f"/v2/action-runs/{run_id}", params={"wait_seconds": "99"}),  # FastAPI, 400
    ]
    assert [answer.status_code for answer in answers] == [200, 400, 200, 200, 400]
    remaining = [int(answer.headers["X-RateLimit-Remaining"]) for answer in answers]
    assert remaining == list(range(remaining[0], remaining[0] - len(answers), -1))
