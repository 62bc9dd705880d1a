"""The built-in HQ faces of the paired track: public-domain portraits that install with registry packages.

Each is a file inside an installed package, pinned by sha256, cut to a 512x512 square of its own
pixels (no resampling), so the HQ set is the same bytes wherever the pinned packages are installed.

- `astronaut`: Eileen Collins, NASA portrait, from scikit-image (`skimage.data.astronaut()`); NASA Great
  Images database, no known copyright restrictions, public domain.
- `grace_hopper`: Rear Admiral Grace M. Hopper, official US Navy portrait, from matplotlib's sample
  data; a work of the US federal government, public domain. Top 512 rows of the 512x600 photo.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from dataclasses import asdict, dataclass
from pathlib import Path

from faceboard.files import sha256_file, write_bytes_atomic
from faceboard.imageio import read_rgb, write_png_atomic

SIZE = 512
SOURCES = "sources.json"


@dataclass(frozen=True)
class BuiltinFace:
    name: str
    distribution: str  # the registry package that installs the file
    module: str  # its import name
    file: str  # path inside the module's folder
    sha256: str
    origin: tuple[int, int]  # top-left (x, y) of the 512x512 square
    subject: str
    licence: str


FACES: tuple[BuiltinFace, ...] = (
    BuiltinFace("astronaut", "scikit-image", "skimage", "data/astronaut.png",
                "88431cd9653ccd539741b555fb0a46b61558b301d4110412b5bc28b5e3ea6cb5", (0, 0),
                "Eileen Collins, NASA astronaut",
                "public domain (NASA Great Images database, no known copyright restrictions)"),
    BuiltinFace("grace_hopper", "matplotlib", "matplotlib", "mpl-data/sample_data/grace_hopper.jpg",
                "a8ca6d734765703b09728ab47fe59f473d93ae3967fc24c7c0288c3c7adb7130", (0, 0),
                "Rear Admiral Grace M. Hopper, US Navy",
                "public domain (official US Navy photograph, a work of the US federal government)"),
)


def source_path(face: BuiltinFace) -> Path:
    """The file inside its installed package (found without importing the package)."""
    spec = importlib.util.find_spec(face.module)
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"built-in face {face.name}: package {face.distribution} is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / face.file


def write_faces(out_dir: Path, faces: tuple[BuiltinFace, ...] = FACES) -> list[dict]:
    """Write each face as `out_dir/<name>.png` and their provenance to `out_dir/sources.json`.

    Raises ValueError when a source file differs from its pinned sha256 (another package version).
    """
    records = []
    for face in faces:
        path = source_path(face)
        if not path.is_file():
            raise FileNotFoundError(f"built-in face {face.name}: {path} is missing from {face.distribution}")
        digest = sha256_file(path)
        if digest != face.sha256:
            version = importlib.metadata.version(face.distribution)
            raise ValueError(f"built-in face {face.name}: {path} ({face.distribution} {version}) has sha256 "
                             f"{digest}, expected {face.sha256}: install the pinned {face.distribution}")
        x, y = face.origin
        crop = read_rgb(path)[y:y + SIZE, x:x + SIZE]
        if crop.shape[:2] != (SIZE, SIZE):
            raise ValueError(f"built-in face {face.name}: crop at {face.origin} is {crop.shape[1]}x{crop.shape[0]}")
        write_png_atomic(out_dir / f"{face.name}.png", crop)
        records.append({**asdict(face), "version": importlib.metadata.version(face.distribution)})
    write_bytes_atomic(out_dir / SOURCES, (json.dumps(records, indent=1) + "\n").encode())
    return records
