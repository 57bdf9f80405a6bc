"""The HTTP API (FastAPI), in the shapes of the Partner API."""
