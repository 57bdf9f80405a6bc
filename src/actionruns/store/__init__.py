"""Persistence: the tables, the one store interface over them, and the migrations."""

from actionruns.store.records import (
    ERROR,
    FINISHED_STATUSES,
    QUEUED,
    RUNNING,
    SUCCESS,
    AttemptRecord,
    AuthenticationRecord,
    ClientKeyRecord,
    ClientRecord,
    DeliveryRecord,
    QueueStats,
    RunRecord,
    SigningKeyRecord,
)
from actionruns.store.run_list import RunFilter, RunPosition
from actionruns.store.store import Store

__all__ = [
    "ERROR",
    "FINISHED_STATUSES",
    "QUEUED",
    "RUNNING",
    "SUCCESS",
    "AttemptRecord",
    "AuthenticationRecord",
    "ClientKeyRecord",
    "ClientRecord",
    "DeliveryRecord",
    "QueueStats",
    "RunFilter",
    "RunPosition",
    "RunRecord",
    "SigningKeyRecord",
    "Store",
]
