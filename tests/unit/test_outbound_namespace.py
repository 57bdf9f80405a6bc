"""The outbound guard under attack, in a network namespace where nothing can leave: address
forms, DNS rebinding through every socket connector and HTTP, redirects and advertised
servers, and TLS checked against the name while the checked address is dialled
(``tests/outbound_probe.py`` does the probing; this runs it and reads its findings)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def findings() -> dict[str, list[dict[str, Any]]]:
    command = ["unshare", "--net", "--mount", "--map-root-user", sys.executable, "-m"]
    problem = None
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        problem = "unshare and ip (util-linux, iproute2) are needed"
    elif subprocess.run(["unshare", "--net", "--map-root-user", "true"]).returncode != 0:
        problem = "this machine does not allow network namespaces (unshare --net)"
    if problem is not None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{problem}: under CI the guard's probes must run", pytrace=False)
        pytest.skip(problem)
    done = subprocess.run(
        [*command, "tests.outbound_probe"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, list[dict[str, Any]]] = json.loads(done.stdout)
    print(summary(result))  # the figures, with -s
    return result


def summary(findings: dict[str, list[dict[str, Any]]]) -> str:
    lines = []
    for kind, probes in findings.items():
        passed = sum(bool(probe.get("passed_through")) for probe in probes)
        lines.append(f"{kind}: {len(probes)} probes, {passed} passed through")
    return "\n".join(lines)


@pytest.mark.parametrize("kind", ["address_forms", "rebinding", "redirects", "pieces"])
def test_nothing_reaches_an_address_the_guard_refuses(
    findings: dict[str, list[dict[str, Any]]], kind: str
) -> None:
    probes = findings[kind]
    assert probes
    through = [probe for probe in probes if probe["passed_through"]]
    assert through == [], json.dumps(through, indent=1)


def test_a_name_is_looked_up_once_and_its_checked_address_dialled(
    findings: dict[str, list[dict[str, Any]]],
) -> None:
    """The second answer of a rebinding name (127.0.0.1) is never asked for: no connector
    and no client library resolves the name again."""
    for probe in findings["rebinding"]:
        assert probe["lookups"] == 1, probe
        assert probe["landed"], probe  # it did connect, to the public address


def test_tls_is_checked_against_the_name_not_the_dialled_address(
    findings: dict[str, list[dict[str, Any]]],
) -> None:
    wrong = [probe for probe in findings["tls_name"] if not probe["as_expected"]]
    assert wrong == [], json.dumps(wrong, indent=1)
    assert len(findings["tls_name"]) == 16


def test_a_piece_looks_a_name_up_once_and_cannot_turn_tls_checks_off(
    findings: dict[str, list[dict[str, Any]]],
) -> None:
    rebinding = [probe for probe in findings["pieces"] if "lookups" in probe]
    assert len(rebinding) == 2
    for probe in rebinding:
        assert probe["lookups"] == 1 and probe["landed"], probe
    refused = [p for p in findings["pieces"] if "lookups" not in p]
    assert all("not allowed" in probe["outcome"] for probe in refused), refused
    wrong = [probe for probe in findings["pieces_tls"] if not probe["as_expected"]]
    assert wrong == [] and len(findings["pieces_tls"]) == 4, json.dumps(wrong, indent=1)
