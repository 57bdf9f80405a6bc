"""Categories a picker groups apps by: one vocabulary (Zapier's directory slugs), every app
in at least one, ``GET /v2/apps?category=`` filtering by a slug or an alias of one."""

from __future__ import annotations

import dataclasses

from actionruns.sdk import App
from actionruns.sdk.categories import ALIASES, CATEGORIES, canonical, slugs
from actionruns.sdk.lint import lint_app
from actionruns.sdk.registry import Registry
from tests.conftest import ApiClient
from tests.testkit import testkit


async def _listed(acme: ApiClient, **params: str) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    while True:
        answer = await acme.get("/v2/apps", params={"limit": 100, "offset": len(found), **params})
        assert answer.status_code == 200, answer.text
        body = answer.json()
        found.extend(body["data"])
        if len(found) >= body["meta"]["count"]:
            return found


def _slugs(app: dict[str, object]) -> list[str]:
    categories = app["categories"]
    assert isinstance(categories, list)
    return [category["slug"] for category in categories]


async def test_every_installed_app_is_in_the_vocabulary(acme: ApiClient) -> None:
    installed = {app.key for app in Registry.from_entry_points()}
    apps = [app for app in await _listed(acme) if app["slug"] in installed]
    assert len(apps) == len(installed)
    for app in apps:
        assert _slugs(app), app["slug"]
        assert set(_slugs(app)) <= set(CATEGORIES), app["slug"]


async def test_the_filter_takes_a_slug_or_its_alias(acme: ApiClient) -> None:
    everything = await _listed(acme)
    expected = sorted(
        str(app["slug"]) for app in everything if "artificial-intelligence" in _slugs(app)
    )
    assert "openai" in expected and "github" not in expected
    by_slug = await _listed(acme, category="artificial-intelligence")
    by_alias = await _listed(acme, category="ai")
    assert sorted(str(app["slug"]) for app in by_slug) == expected
    assert sorted(str(app["slug"]) for app in by_alias) == expected
    # Every category some app is in finds that app, and no other.
    for slug in {slug for app in everything for slug in _slugs(app)}:
        members = {str(app["slug"]) for app in await _listed(acme, category=slug)}
        assert members == {str(app["slug"]) for app in everything if slug in _slugs(app)}
    assert await _listed(acme, category="gadgets") == []


def test_an_alias_stands_for_a_slug_of_the_vocabulary() -> None:
    assert all(slug in CATEGORIES for slug in ALIASES.values())
    assert not set(ALIASES) & set(CATEGORIES)
    assert canonical("sms") == "phone-sms" and canonical("crm") == "crm"
    assert canonical("gadgets") is None
    # An Activepieces piece's categories, as its manifest spells them.
    assert [canonical(word) for word in ("Sales And Crm", "ARTIFICIAL_INTELLIGENCE", "Core")] == [
        "crm",
        "artificial-intelligence",
        "utilities",
    ]
    assert slugs(["support", "customer-support", "gadgets", "ai"]) == (
        "customer-support",
        "artificial-intelligence",
    )


def test_the_check_names_a_category_outside_the_vocabulary() -> None:
    def about_categories(app: App) -> list[str]:
        return [str(p) for p in lint_app(app) if "categor" in p.message]

    assert about_categories(testkit) == []
    outside = dataclasses.replace(testkit, categories=("developer-tools", "gadgets"))
    [problem] = about_categories(outside)
    assert problem.startswith("testkit: category 'gadgets' is not one of accounting, ")
    bare = dataclasses.replace(testkit, categories=())
    assert about_categories(bare) == ["testkit: has no category"]
