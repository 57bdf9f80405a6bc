"""Settings: declared once, read from the environment, documented from the declaration, and a
bad value told in one line."""

from __future__ import annotations

import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from actionruns.config import Settings, SettingsError, settings_table

README = Path(__file__).resolve().parents[1] / "README.md"


def test_the_readme_lists_every_setting_as_declared() -> None:
    text = README.read_text()
    start = text.index("| Variable | Default | |")
    table = text[start : text.index("\n\n", start)]
    assert table == settings_table(), (
        "README.md's settings table differs from actionruns.config.Settings; "
        "replace it with:\n" + settings_table()
    )


def test_values_come_from_the_environment_and_overrides_win() -> None:
    settings = Settings.from_env(
        {
            "ACTIONRUNS_PORT": "9001",
            "ACTIONRUNS_HOME": "~/somewhere",
            "ACTIONRUNS_RETENTION_DAYS": "0.5",
            "ACTIONRUNS_OUTBOUND_ALLOW": "10.0.0.0/8, ::1",
            "ACTIONRUNS_CONNECTORS": "pkg.one:app, pkg.two:app",
            "ACTIONRUNS_OAUTH_SLACK_CLIENT_ID": "id-1",
            "ACTIONRUNS_OAUTH_SLACK_CLIENT_SECRET": "secret-1",
            "ACTIONRUNS_OAUTH_GITHUB_CLIENT_ID": "no secret, so not registered",
            "ACTIONRUNS_MAX_ATTEMPTS": "",  # empty: the default
        },
        host="0.0.0.0",
    )
    assert settings.port == 9001 and settings.host == "0.0.0.0"
    assert settings.home == Path("~/somewhere").expanduser()
    assert settings.retention_days == 0.5 and settings.max_attempts == 5
    assert settings.outbound_allow == (
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
    )
    assert settings.extra_connectors == ("pkg.one:app", "pkg.two:app")
    assert settings.oauth_clients == {"slack": ("id-1", "secret-1")}
    assert "secret-1" not in repr(settings)


def test_constructed_settings_read_no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACTIONRUNS_PORT", "1234")
    assert Settings().port == 8080
    assert Settings.from_env().port == 1234
    assert Settings(extra_connectors=("a:b",)).with_values(port=7).extra_connectors == ("a:b",)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        (
            "ACTIONRUNS_PORT",
            "80a",
            "ACTIONRUNS_PORT: got '80a', expected a whole number from 1 to 65535",
        ),
        (
            "ACTIONRUNS_LEASE_SECONDS",
            "-3",
            "ACTIONRUNS_LEASE_SECONDS: got '-3', expected a number above 0",
        ),
        (
            "ACTIONRUNS_OUTBOUND_ALLOW",
            "10.0.0.0/8,intranet",
            "ACTIONRUNS_OUTBOUND_ALLOW: got '10.0.0.0/8,intranet', expected comma-separated "
            "addresses or CIDRs, e.g. 10.0.0.0/8,::1",
        ),
    ],
)
def test_a_bad_value_names_the_variable_the_value_and_what_it_expects(
    variable: str, value: str, expected: str
) -> None:
    with pytest.raises(SettingsError) as raised:
        Settings.from_env({variable: value})
    assert str(raised.value) == expected


def test_the_command_line_says_it_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "actionruns.cli.main", "apps"],
        env={"ACTIONRUNS_PORT": "80a", "ACTIONRUNS_HOME": str(tmp_path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "error: ACTIONRUNS_PORT: got '80a', expected a whole number from 1 to 65535"
    )
    assert "Traceback" not in result.stderr + result.stdout
