"""Errors an import fails with: a message that says what is wrong and where."""

from __future__ import annotations


class ImportFailed(Exception):
    """The description (or the overlay) cannot be imported; ``str()`` says why."""


class DanglingReference(ImportFailed):
    """A ``$ref`` points at nothing in the description. Where a schema has one, the importer
    takes the schema as plain JSON and says so, rather than refusing a vendor's whole file."""
