"""The fault suite: every test under tests/faults/ carries the `faults` marker (`pytest -m faults` runs it alone).

Each case asserts the clear error and that no earlier result was lost or altered (`tests/faults/snapshot.py`)."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).parents:
            item.add_marker(pytest.mark.faults)
