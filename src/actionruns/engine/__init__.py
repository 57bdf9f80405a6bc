"""The engine: accepting runs, leasing and executing them, delivering their results."""

from actionruns.engine.service import Engine

__all__ = ["Engine"]
