"""Connectors shipped with actionruns; each module exports an App named `app`."""
