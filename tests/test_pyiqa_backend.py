"""pyiqa checkpoints load tensor-only: a pickle carrying code is refused, a plain state dict loads."""

from __future__ import annotations

import re

import pytest
import torch

from faceboard.metrics import table
from faceboard.weights.load import UnsafeCheckpoint, tensors_only_loads
from faceboard.weights.registry import get as get_weight
from tests.random_weights import populate


class Payload:
    """Stands in for arbitrary code inside a checkpoint."""


def test_tensors_only_loads_refuses_arbitrary_objects_even_when_the_caller_allows_them(tmp_path):
    path = tmp_path / "ckpt.pth"
    torch.save({"weight": torch.zeros(2), "extra": Payload()}, path)
    assert isinstance(torch.load(path, weights_only=False)["extra"], Payload)
    refused = f"refused: {re.escape(str(path))} is not a tensors-only checkpoint"
    with tensors_only_loads(), pytest.raises(UnsafeCheckpoint, match=refused):
        torch.load(path, weights_only=False)
    torch.save({"weight": torch.ones(2)}, path)
    with tensors_only_loads():
        assert torch.equal(torch.load(path, weights_only=False)["weight"], torch.ones(2))


def test_musiq_checkpoint_with_code_is_unavailable_and_a_state_dict_loads(tmp_path, monkeypatch):
    for key, value in populate(tmp_path, ["musiq_koniq"]).items():
        monkeypatch.setenv(key, value)
    scores = table.load("musiq")(torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(0)))
    assert scores.shape == (2,)
    path = get_weight("musiq_koniq").path
    state = torch.load(path, weights_only=True)
    torch.save({**state, "payload": Payload()}, path)
    refused = f"failed to load: UnsafeCheckpoint: refused: {re.escape(str(path))} is not a tensors-only checkpoint"
    with pytest.raises(table.MetricUnavailable, match=refused):
        table.load("musiq")
