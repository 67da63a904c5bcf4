"""MNIST's idx file format (LeCun et al., http://yann.lecun.com/exdb/mnist/), gzip-compressed or raw.

An idx file is a 4-byte magic number ``00 00 <type> <ndim>``, then ``ndim`` big-endian uint32 sizes, then
the data in C order (big-endian for multi-byte types). MNIST, Fashion-MNIST and KMNIST all ship in it as
``{train,t10k}-{images-idx3,labels-idx1}-ubyte[.gz]``.

Written by hand rather than with ``torchvision.datasets.mnist.read_sn3_pascalvincent_tensor`` because that
reader reports corrupt files with bare ``assert``s, does not read ``.gz`` files and, in the loaders'
non-strict mode, accepts a truncated file; here every defect becomes a one-line :class:`DataError` naming
the file.
"""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import numpy as np

from gan_zoo.errors import DataError

# idx type code -> big-endian numpy dtype
IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
GZIP_MAGIC = b"\x1f\x8b"

# the four files of an MNIST-format directory, by split
SPLIT_STEMS = {"train": "train", "test": "t10k"}


def _read_bytes(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"{path}: cannot read ({e.strerror})") from e
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (EOFError, OSError, zlib.error) as e:
        raise DataError(f"{path}: truncated or corrupt gzip stream ({e}); download the file again") from e


def read_idx(path: str | Path) -> np.ndarray:
    """Read one idx file (raw or gzip, detected by content) into a native-endian numpy array."""
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4 or data[0] != 0 or data[1] != 0:
        raise DataError(
            f"{path}: not an idx file (magic number {data[:4].hex() or 'missing'}, expected 0000xxxx)"
        )
    type_code, ndim = data[2], data[3]
    if type_code not in IDX_DTYPES or ndim == 0:
        raise DataError(f"{path}: unsupported idx header (type 0x{type_code:02x}, {ndim} dims)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"{path}: truncated idx header ({len(data)} bytes, need {header}); download it again")
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype = np.dtype(IDX_DTYPES[type_code])
    expected = int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(
            f"{path}: idx header says {dims} ({expected} data bytes) but the file holds "
            f"{len(data) - header}; "
            "it is truncated or corrupt, download it again"
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return array.astype(dtype.newbyteorder("="), copy=True)


def find_idx_file(directory: Path, name: str) -> Path:
    """``directory/name`` or ``directory/name.gz``, whichever exists (raw preferred)."""
    for candidate in (directory / name, directory / f"{name}.gz"):
        if candidate.is_file():
            return candidate
    raise DataError(f"{directory / name}[.gz]: file not found; put the MNIST-format idx files in {directory}")


def read_idx_split(directory: str | Path, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 ``[N, H, W]`` and labels int64 ``[N]`` of ``split`` ("train", "test" or "train+test")."""
    directory = Path(directory)
    parts = split.split("+")
    if not parts or any(p not in SPLIT_STEMS for p in parts):
        raise DataError(f"split {split!r} of {directory}: use 'train', 'test' or 'train+test'")
    images, labels = [], []
    for part in parts:
        stem = SPLIT_STEMS[part]
        img_path = find_idx_file(directory, f"{stem}-images-idx3-ubyte")
        lbl_path = find_idx_file(directory, f"{stem}-labels-idx1-ubyte")
        img, lbl = read_idx(img_path), read_idx(lbl_path)
        if img.dtype != np.uint8 or img.ndim != 3:
            raise DataError(f"{img_path}: expected uint8 images [N, H, W], got {img.dtype} {img.shape}")
        if lbl.ndim != 1:
            raise DataError(f"{lbl_path}: expected labels [N], got shape {lbl.shape}")
        if len(lbl) != len(img):
            raise DataError(f"{lbl_path}: {len(lbl)} labels for the {len(img)} images of {img_path.name}")
        images.append(img)
        labels.append(lbl.astype(np.int64))
    if len({im.shape[1:] for im in images}) > 1:
        raise DataError(f"{directory}: train and test images differ in size ({[im.shape for im in images]})")
    return np.concatenate(images), np.concatenate(labels)
