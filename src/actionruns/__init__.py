"""actionruns: a self-hosted Action Runs service."""

__version__ = "0.1.0"
