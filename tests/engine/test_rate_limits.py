"""A client's request limit holds across API nodes sharing a database."""

from __future__ import annotations

from tests.conftest import ServiceFactory


async def test_the_limit_is_one_budget_for_every_node(
    start_service: ServiceFactory, backend: str
) -> None:
    first = await start_service(workers=False, rate_limit_per_minute=5)
    nodes = [first]
    if backend == "postgresql":  # a second API node on the same database and keys
        nodes.append(
            await start_service(
                workers=False, home=first.engine.settings.home, rate_limit_per_minute=5
            )
        )
    client = await first.new_client("acme")
    headers = client.headers

    answers = []
    for number in range(7):
        node = nodes[number % len(nodes)]
        answers.append(await node.http.get("/v2/apps", headers=headers))

    assert [answer.status_code for answer in answers] == [200] * 5 + [429] * 2
    assert [answer.headers["X-RateLimit-Remaining"] for answer in answers[:5]] == [
        "4",
        "3",
        "2",
        "1",
        "0",
    ]
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["errors"][0]["status"] == 429
    # Another client has its own budget.
    other = await first.new_client("globex")
    assert (await nodes[-1].http.get("/v2/apps", headers=other.headers)).status_code == 200
