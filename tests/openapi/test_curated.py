"""The curated apps: each made by the importer from its vendor's own description and its
overlay, exactly as committed; each served like any connector, with the parts users expect."""

from __future__ import annotations

import pytest

from actionruns.connectors.curated import HERE, curated, keys
from actionruns.openapi import import_description, load_overlay
from actionruns.sdk.registry import Registry
from tests.vendors.descriptions import CURATED, vendor_file, where_to_put

KEYS = keys()


def test_every_curated_app_is_installed_and_described() -> None:
    installed = {app.key for app in Registry.from_entry_points()}
    assert set(KEYS) <= installed, "add an actionruns.connectors entry point for each"
    assert set(KEYS) == set(CURATED), "say in tests/vendors/descriptions.py where each came from"


@pytest.mark.parametrize("key", KEYS)
def test_the_committed_app_is_what_the_import_makes(key: str) -> None:
    path = vendor_file(CURATED[key])
    if path is None:
        pytest.skip(where_to_put(key))
    overlay, data = load_overlay(HERE / key / "overlay.yaml")
    made = import_description(path, overlay=overlay, overlay_bytes=data).manifest
    committed = (HERE / key / "app.json").read_text()
    assert made.to_file() == committed, f"remake it: python -m tests.vendors.curate app {key}"


@pytest.mark.parametrize("key", KEYS)
def test_a_curated_app_is_one_a_person_would_pick(key: str) -> None:
    app = curated(key)
    assert 10 <= len(app.actions) <= 40
    assert app.test is not None, "a connection test"
    assert app.fixtures is not None and app.fixtures.is_file()
    fields = [spec for action in app.actions for spec in action.static_inputs]
    assert any(spec.dynamic_choices is not None for spec in fields), "a dropdown from a list"
