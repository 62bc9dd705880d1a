"""Offline provisioning: build weight files from assets that install from the package registry."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np

from faceboard.weights.registry import WeightFile, get


def _basicsr_npz() -> Path:
    spec = importlib.util.find_spec("basicsr")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError("basicsr is not installed: it ships niqe_pris_params.npz")
    path = Path(spec.submodule_search_locations[0]) / "metrics" / "niqe_pris_params.npz"
    if not path.is_file():
        raise FileNotFoundError(f"{path} is missing from the basicsr install")
    return path


_MAT_HEADER_LEN = 116
_MAT_HEADER = b"MATLAB 5.0 MAT-file, written by faceboard from basicsr niqe_pris_params.npz".ljust(_MAT_HEADER_LEN)


def niqe_params_from_basicsr(entry: WeightFile) -> Path:
    """Write pyiqa's `niqe_modelparameters.mat` from basicsr's copy of the MATLAB pristine model.

    Both hold the values of MATLAB's `modelparameters.mat`; pyiqa reads the keys
    `mu_prisparam` and `cov_prisparam`.
    """
    import scipy.io

    with np.load(_basicsr_npz()) as npz:
        mu = np.asarray(npz["mu_pris_param"], dtype=np.float64).reshape(1, -1)
        cov = np.asarray(npz["cov_pris_param"], dtype=np.float64)
    target = entry.path
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    scipy.io.savemat(tmp, {"mu_prisparam": mu, "cov_prisparam": cov})
    blob = bytearray(tmp.read_bytes())
    blob[:_MAT_HEADER_LEN] = _MAT_HEADER  # savemat stamps the time here; fix it so the sha256 is stable
    tmp.write_bytes(bytes(blob))
    tmp.replace(target)
    return target


def ensure(name: str) -> Path | None:
    """The file's path if present or provisionable offline, else None."""
    from faceboard.plugins import resolve

    entry = get(name)
    if entry.present():
        return entry.path
    if entry.provision:
        return resolve(entry.provision)(entry)
    return None
