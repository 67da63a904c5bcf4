"""CIFAR-10 (Krizhevsky 2009) from its official "python version": pickled batches in ``cifar-10-batches-py``.

Layout (as torchvision's ``CIFAR10`` expects it): ``<root>/cifar-10-batches-py/{data_batch_1..5, test_batch,
batches.meta}``; each batch is a pickled dict with ``data`` (uint8 ``[10000, 3072]``, each row the R, G, B
planes of a 32x32 image, so it reshapes straight to ``[N, 3, 32, 32]``) and ``labels`` (10000 ints 0-9).

Files are located in this order: the extracted folder under ``root`` (or ``root`` itself), then
``<root>/cifar-10-python.tar.gz`` (extracted in place), then a torchvision download when ``download: true``.
Every batch file is md5-checked against the published sums torchvision lists (``verify_md5: false`` skips
this, for CIFAR-format files of your own). The check also guards ``pickle.load``, which runs code from the
file: only unpickle files you trust.
"""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
from torchvision.datasets import CIFAR10 as _TorchvisionCIFAR10
from torchvision.datasets.utils import calculate_md5, download_and_extract_archive, extract_archive

from gan_zoo.data.base import ImageDataset
from gan_zoo.errors import ConfigError, DataError

BASE_FOLDER = _TorchvisionCIFAR10.base_folder  # "cifar-10-batches-py"
ARCHIVE = _TorchvisionCIFAR10.filename  # "cifar-10-python.tar.gz"
URL = _TorchvisionCIFAR10.url
ARCHIVE_MD5 = _TorchvisionCIFAR10.tgz_md5
# published md5 of every batch file, from torchvision's list
BATCH_MD5 = dict(_TorchvisionCIFAR10.train_list + _TorchvisionCIFAR10.test_list)
SPLITS = {
    "train": [name for name, _ in _TorchvisionCIFAR10.train_list],
    "test": [name for name, _ in _TorchvisionCIFAR10.test_list],
}
SPLITS["train+test"] = SPLITS["train"] + SPLITS["test"]
RESOLUTION = 32


def _fetch(root: Path, download: bool, verify_md5: bool) -> None:
    """Extract ``cifar-10-python.tar.gz`` from ``root``, downloading it first if allowed."""
    archive = root / ARCHIVE
    if archive.is_file():
        if verify_md5 and (md5 := calculate_md5(str(archive))) != ARCHIVE_MD5:
            raise DataError(f"{archive}: md5 {md5} is not the published {ARCHIVE_MD5}; download it again")
        try:
            extract_archive(str(archive), str(root))
        except Exception as e:  # tarfile.ReadError, EOFError, zlib.error on a truncated archive
            raise DataError(f"{archive}: cannot extract ({type(e).__name__}: {e}); download it again") from e
        return
    if not download:
        raise DataError(
            f"{root}: no CIFAR-10 data; put {ARCHIVE} ({URL}) or the extracted {BASE_FOLDER}/ folder in "
            f"{root}, "
            "or set dataset.download=true"
        )
    try:
        download_and_extract_archive(URL, str(root), filename=ARCHIVE, md5=ARCHIVE_MD5)
    except Exception as e:  # URLError offline, RuntimeError on a bad download
        raise DataError(
            f"{root / ARCHIVE}: download from {URL} failed ({type(e).__name__}: {str(e).splitlines()[0]}); "
            f"offline, copy {ARCHIVE} or the extracted {BASE_FOLDER}/ into {root}"
        ) from e


def locate_batches(root: str | Path, download: bool = False, verify_md5: bool = True) -> Path:
    """The ``cifar-10-batches-py`` directory under (or at) ``root``, extracting/downloading as needed."""
    root = Path(root).expanduser()
    for candidate in (root / BASE_FOLDER, root):
        if (candidate / "data_batch_1").is_file() or (candidate / "test_batch").is_file():
            return candidate
    _fetch(root, download, verify_md5)
    return root / BASE_FOLDER


def read_batch(path: Path, verify_md5: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """One pickled batch -> uint8 images ``[n, 3, 32, 32]`` and int64 labels ``[n]``."""
    if not path.is_file():
        raise DataError(f"{path}: batch file missing; extract the whole {ARCHIVE} into {path.parent.parent}")
    if verify_md5 and path.name in BATCH_MD5 and (md5 := calculate_md5(str(path))) != BATCH_MD5[path.name]:
        raise DataError(
            f"{path}: md5 {md5} is not the published {BATCH_MD5[path.name]}; the file is corrupt or not "
            "CIFAR-10 "
            f"(download {ARCHIVE} again, or set dataset.verify_md5=false for CIFAR-format data of your own)"
        )
    try:
        with open(path, "rb") as f:
            entry = pickle.load(f, encoding="latin1")
        data = np.asarray(entry["data"])
        labels = np.asarray(entry["labels"], dtype=np.int64)
    except (pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError, AttributeError) as e:
        raise DataError(f"{path}: not a readable CIFAR-10 python batch ({type(e).__name__}: {e})") from e
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != 3 * RESOLUTION * RESOLUTION:
        raise DataError(f"{path}: 'data' is {data.dtype} {data.shape}, expected uint8 [n, 3072]")
    if len(labels) != len(data):
        raise DataError(f"{path}: {len(labels)} labels for {len(data)} images")
    return data.reshape(-1, 3, RESOLUTION, RESOLUTION), labels


def cifar10(
    root: str | Path = "data/cifar10",
    split: str = "train",
    resolution: int = RESOLUTION,
    labels: bool = True,
    xflip: bool = False,
    download: bool = False,
    verify_md5: bool = True,
) -> ImageDataset:
    """CIFAR-10 ``split`` ("train" 50k, "test" 10k, "train+test") as uint8 ``[N, 3, 32, 32]``, 10 classes."""
    if resolution != RESOLUTION:
        raise ConfigError(f"dataset.resolution = {resolution}: CIFAR-10 images are 32x32; set it to 32")
    if split not in SPLITS:
        raise ConfigError(f"dataset.split = {split!r}: use one of {sorted(SPLITS)}")
    directory = locate_batches(root, download, verify_md5)
    parts = [read_batch(directory / name, verify_md5) for name in SPLITS[split]]
    images = np.concatenate([p[0] for p in parts])
    targets = np.concatenate([p[1] for p in parts])
    return ImageDataset(
        images,
        targets if labels else None,
        num_classes=10,
        name="cifar10",
        source=f"{directory} ({split})",
        xflip=xflip,
    )
