"""FID, a set metric: pytorch-fid's InceptionV3 pool features of a method's outputs against reference statistics.

Images in [0,1] are resized bilinearly to 299 and mapped to [-1,1] inside the network, as the protocol
says. The reference is the FFHQ-512 statistics file (BasicSR/VQFR format: `mean` (2048,), `cov`
(2048,2048)) or, with option `reference_dir`, statistics of a folder of images, cached by content.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from urllib.parse import urlparse

import numpy as np
import torch
from torch import nn

from faceboard.env import cache_dir
from faceboard.files import sha256_file, write_bytes_atomic
from faceboard.imageio import is_image_file, read_rgb, to_batch
from faceboard.metrics.table import MetricSpec
from faceboard.metrics.weights import locate
from faceboard.weights.load import load_tensors

DIMS = 2048
REFERENCE_BATCH = 32


def load_inception(path: Path) -> nn.Module:
    """pytorch-fid's FID InceptionV3 (pool3 block) with its weights read from `path`, tensors-only.

    pytorch-fid fetches them with torch.hub's load_state_dict_from_url, which downloads a missing file
    and unpickles with weights_only=False; faceboard hands it the verified local file instead.
    """
    from pytorch_fid import inception

    def local(url: str, *args, **kwargs) -> dict:
        if Path(urlparse(url).path).name != path.name:
            raise ValueError(f"pytorch-fid asked for {url}, faceboard holds {path.name}")
        return load_tensors(path)

    fetch = inception.load_state_dict_from_url
    inception.load_state_dict_from_url = local
    try:
        return inception.InceptionV3([inception.InceptionV3.BLOCK_INDEX_BY_DIM[DIMS]], resize_input=True,
                                     normalize_input=True, use_fid_inception=True).eval()
    finally:
        inception.load_state_dict_from_url = fetch


def load_stats(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """`mean` and `cov` of a BasicSR/VQFR statistics file (numpy arrays or tensors), read tensors-only."""
    from numpy._core.multiarray import _reconstruct

    numpy_globals = [_reconstruct, (_reconstruct, "numpy.core.multiarray._reconstruct"), np.ndarray, np.dtype,
                     np.dtypes.Float64DType, np.dtypes.Float32DType]
    stats = load_tensors(path, allow=numpy_globals)
    mean, cov = (np.asarray(stats[key], dtype=np.float64) for key in ("mean", "cov"))
    if mean.shape != (DIMS,) or cov.shape != (DIMS, DIMS):
        raise ValueError(f"{path}: mean {mean.shape} / cov {cov.shape}, expected ({DIMS},) / ({DIMS}, {DIMS})")
    return mean, cov


class FID:
    """Frechet Inception distance of a method's whole output set (see faceboard.metrics.table)."""

    def __init__(self, spec: MetricSpec, options: dict, device: torch.device) -> None:
        import pytorch_fid

        self.spec = spec
        self.options = {**spec.options, **options}
        self.weights = locate(spec, self.options)
        self.device = device
        self.model = load_inception(self.weights.paths["fid_inception"]).to(device)
        self.version = pytorch_fid.__version__
        folder = self.options.get("reference_dir")
        if folder is None:
            stats = self.weights.paths["fid_ffhq512_stats"]
            self.reference = load_stats(stats)
            self.reference_info = {"stats": stats.name}
        else:
            self.reference, self.reference_info = self._folder_stats(Path(str(folder)))

    @torch.inference_mode()
    def features(self, batch: torch.Tensor) -> np.ndarray:
        """(N, 2048) pool3 features of a batch of RGB images in [0,1]."""
        pooled = self.model(batch.to(self.device))[0]
        return pooled.reshape(len(batch), DIMS).double().cpu().numpy()

    def compute(self, features: np.ndarray) -> float:
        if len(features) < 2:
            raise ValueError(f"FID needs the features of at least 2 images, got {len(features)}")
        mean, cov = _statistics(features)
        return frechet_distance(mean, cov, *self.reference)

    def provenance(self) -> dict:
        return {
            "metric": self.spec.name,
            "backend": "pytorch_fid",
            "pytorch_fid": self.version,
            "options": self.options,
            "lower_better": self.spec.lower_better,
            "input": "RGB [0,1], bilinear resize to 299, scaled to [-1,1] (pytorch-fid InceptionV3, FID weights)",
            "reference": self.reference_info,
            **self.weights.provenance(),
        }

    def _folder_stats(self, folder: Path) -> tuple[tuple[np.ndarray, np.ndarray], dict]:
        """Statistics of every image under `folder`, cached by (folder content, Inception weights)."""
        if not folder.is_dir():
            raise FileNotFoundError(f"fid reference_dir {folder} is not a folder")
        files = sorted(p for p in folder.rglob("*") if p.is_file() and is_image_file(p))
        if len(files) < 2:
            raise ValueError(f"fid reference_dir {folder} holds {len(files)} images; FID needs at least 2")
        listing = "".join(f"{p.relative_to(folder).as_posix()}\t{sha256_file(p)}\n" for p in files)
        content = hashlib.sha256(listing.encode()).hexdigest()
        inception = self.weights.digests[self.weights.paths["fid_inception"].name]
        cached = cache_dir() / "fid_stats" / f"{hashlib.sha256((content + inception).encode()).hexdigest()[:32]}.npz"
        info = {"dir": str(folder), "content_sha256": content, "images": len(files)}
        if cached.is_file():
            with np.load(cached) as npz:
                return (npz["mean"], npz["cov"]), info
        features = np.concatenate([self.features(to_batch(group)) for group in _same_size_batches(files)])
        mean, cov = _statistics(features)
        buffer = io.BytesIO()
        np.savez(buffer, mean=mean, cov=cov)
        write_bytes_atomic(cached, buffer.getvalue())
        return (mean, cov), info


def frechet_distance(mu1: np.ndarray, sigma1: np.ndarray, mu2: np.ndarray, sigma2: np.ndarray,
                     eps: float = 1e-6) -> float:
    """pytorch-fid's Frechet distance, without its `sqrtm(disp=False)` call that newer scipy rejects:
    |mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr(sqrt(S1 S2)), offsetting near-singular products by eps."""
    from scipy import linalg

    covmean = linalg.sqrtm(sigma1 @ sigma2)
    if not np.isfinite(covmean).all():
        offset = np.eye(len(sigma1)) * eps
        covmean = linalg.sqrtm((sigma1 + offset) @ (sigma2 + offset))
    if np.iscomplexobj(covmean):
        if not np.allclose(np.diagonal(covmean).imag, 0, atol=1e-3):
            raise ValueError(f"FID: imaginary component {np.max(np.abs(covmean.imag)):.3g} in sqrt(S1 S2)")
        covmean = covmean.real
    diff = mu1 - mu2
    return float(diff @ diff + np.trace(sigma1) + np.trace(sigma2) - 2 * np.trace(covmean))


def _statistics(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    return features.mean(axis=0), np.cov(features, rowvar=False)


def _same_size_batches(files: list[Path]):
    """Consecutive images of one size, at most REFERENCE_BATCH at a time."""
    group: list[np.ndarray] = []
    for path in files:
        image = read_rgb(path)
        if group and (len(group) == REFERENCE_BATCH or image.shape != group[0].shape):
            yield group
            group = []
        group.append(image)
    yield group
