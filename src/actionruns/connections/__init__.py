"""Connections: end users' authentications to apps, their credentials sealed in the vault."""

from actionruns.connections.service import ConnectionService

__all__ = ["ConnectionService"]
