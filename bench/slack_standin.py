"""slack.com stood in for, in a process of its own, for ``./scripts/bench pieces``: the tests'
Slack emulator (every request checked against Slack's Web API description) behind the tests'
TLS stand-in, so that a Python connector and a piece are measured against the same upstream,
which does not share the engine's interpreter.

    python -m bench.slack_standin ADDRESS CA_FILE

Writes its test CA to CA_FILE, prints ``ready`` and serves HTTPS on ADDRESS:443 until its
input closes; then prints the emulator's violations (one a line; none expected).
"""

from __future__ import annotations

import sys

import trustme
from tests.pieces.standin import StandIn
from tests.vendors.slack_emulator import SlackEmulator


def main(address: str, ca_file: str) -> None:
    ca = trustme.CA()
    ca.cert_pem.write_to_path(ca_file)
    emulator = SlackEmulator()
    standin = StandIn(("slack.com",), emulator.handle, address=address).start(ca)
    print("ready", flush=True)
    sys.stdin.read()  # until the benchmark is done with us
    standin.stop()
    for violation in sorted(set(emulator.violations)):
        print(violation, flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
