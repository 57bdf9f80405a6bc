"""The container image as documented: the compose file in docs/deployment.md runs the image
and the processes that scripts/container builds and checks, and the Dockerfile is what the
guide says it is. Building and running the image takes minutes, so it is scripts/container's
job, run by hand (docs/deployment.md); these checks keep the three from drifting apart.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

import yaml

from actionruns.config import Settings
from tests.test_docs import REPO, blocks

SCRIPT = (REPO / "scripts" / "container").read_text()
DOCKERFILE = (REPO / "Dockerfile").read_text()


def compose() -> dict[str, Any]:
    guide = REPO / "docs" / "deployment.md"
    found = [block for block in blocks(guide) if block.language in {"yaml", "yml"}]
    assert len(found) == 1, "docs/deployment.md should hold one YAML block: the compose file"
    loaded = yaml.safe_load(found[0].text)
    assert isinstance(loaded, dict)
    return loaded


def script_value(name: str) -> list[str]:
    """A variable of scripts/container: ``NAME=(a b)``, ``NAME=a`` or ``NAME="${NAME:-a}"``."""
    match = re.search(rf"^{name}=(.*)$", SCRIPT, re.MULTILINE)
    assert match, f"scripts/container sets no {name}"
    value = match.group(1)
    if value.startswith("("):
        return shlex.split(value.strip("()"))
    default = re.fullmatch(rf'"\$\{{{name}:-(.*)\}}"', value)
    return [default.group(1) if default else value]


def dockerfile(instruction: str) -> list[str]:
    """The arguments of every INSTRUCTION, continuation lines joined."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return re.findall(rf"^{instruction}\s+(.*)$", joined, re.MULTILINE)


def test_the_compose_file_runs_the_image_and_the_commands_the_script_checks() -> None:
    services = compose()["services"]
    image = script_value("IMAGE")[0]
    for role, variable in (("migrate", "MIGRATE"), ("api", "API"), ("worker", "WORKER")):
        assert services[role]["image"] == image, role
        assert shlex.split(services[role]["command"]) == script_value(f"{variable}_COMMAND"), role
    assert services["worker"]["deploy"]["replicas"] == int(script_value("WORKERS")[0])
    assert services["api"].get("deploy", {}).get("replicas", 1) == 1


def test_what_serves_no_http_runs_without_the_images_health_check() -> None:
    services = compose()["services"]
    assert services["api"].get("healthcheck") is None  # the image's: /readyz
    for role in ("migrate", "worker"):
        assert services[role]["healthcheck"] == {"disable": True}, role
    worker = re.search(r'container "worker-\$n" (.*)', SCRIPT)
    assert worker and "--no-healthcheck" in worker.group(1)


def test_the_compose_database_is_the_one_the_settings_name() -> None:
    database = compose()["services"]["db"]["environment"]
    url = f"postgresql://{database['POSTGRES_USER']}:{database['POSTGRES_PASSWORD']}@db/"
    guide = (REPO / "docs" / "deployment.md").read_text()
    assert f"ACTIONRUNS_DATABASE_URL={url}{database['POSTGRES_DB']}\n" in guide


def test_the_dockerfile_is_multi_stage_unprivileged_and_checks_readiness() -> None:
    stages = dockerfile("FROM")
    assert len(stages) >= 2 and all(stage.split()[0] == "${BASE}" for stage in stages)
    (base,) = [arg.removeprefix("BASE=") for arg in dockerfile("ARG") if arg.startswith("BASE=")]
    assert base.startswith("docker.io/library/python:") and "-slim" in base
    assert dockerfile("ENTRYPOINT") == ['["actionruns"]']
    user = dockerfile("USER")[-1].split(":")
    assert all(part.isdigit() and int(part) != 0 for part in user), user
    assert dockerfile("EXPOSE") == [str(Settings().port)]
    (check,) = dockerfile("HEALTHCHECK")
    assert "/readyz" in check and "ACTIONRUNS_PORT" in check
    assert "ACTIONRUNS_HOST=0.0.0.0" in dockerfile("ENV")[-1]


def test_the_build_context_holds_what_the_dockerfile_copies_and_nothing_else() -> None:
    lines = (REPO / ".dockerignore").read_text().splitlines()
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    kept = {rule[1:].rstrip("/") for rule in rules if rule.startswith("!")}
    copied: set[str] = set()
    for line in dockerfile("COPY"):
        words = line.split()
        if not any(word.startswith("--from") for word in words):
            copied |= {word.rstrip("/") for word in words[:-1] if not word.startswith("--")}
    assert copied == kept
