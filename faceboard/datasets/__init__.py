"""Datasets of the catalog (params.yaml `datasets:`): fetched, verified, extracted safely, and
described by a content manifest. `tasks/fetch.py` assembles a dataset from these pieces."""

from __future__ import annotations


class DatasetError(ValueError):
    """A dataset that cannot be accepted: wrong digest, missing or unexpected files, bad layout."""
