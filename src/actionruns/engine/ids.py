"""Ids for the hot path, made without a system call each.

``uuid.uuid4()`` reads ``os.urandom`` once per id (a getrandom call: 2.6 µs here, 3% of the
embedded service's CPU under load); uuid-utils draws from a user-space CSPRNG seeded by the
OS (0.2 µs). Ids stay opaque UUID strings.
"""

from __future__ import annotations

import uuid_utils


def run_id() -> str:
    """A run's id: a UUIDv7, time-ordered, so new rows land at the end of the primary key's
    index (PostgreSQL's B-tree pages stay hot) while 74 of its bits stay random."""
    return str(uuid_utils.uuid7())


def random_hex() -> str:
    """32 random hex digits (a UUIDv4's), for request ids and the like."""
    return uuid_utils.uuid4().hex
