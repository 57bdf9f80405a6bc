from tests.conftest import ApiClient


async def test_noop_run_end_to_end(acme: ApiClient) -> None:
    run_id = await acme.run("testkit.noop", {"value": "hi", "count": "3"})
    run = await acme.wait(run_id)
    assert run["status"] == "success"
    assert run["results"] == [{"ok": True, "value": "hi", "count": 3}]
    assert run["attempts"] == 1
