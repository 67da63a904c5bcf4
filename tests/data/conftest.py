"""Fixture writers: tiny files in each dataset's exact on-disk format, and config-driven instantiation.

Every writer follows the published format byte for byte (idx headers, CIFAR's pickled dicts, dataset_tool's
zip layout, downsampled ImageNet's npz keys), so the loaders are tested on the real parsing path.
"""

from __future__ import annotations

import gzip
import io
import json
import pickle
import zipfile
from pathlib import Path
from types import SimpleNamespace

import hydra.utils
import numpy as np
import pytest
from hydra.errors import InstantiationException
from omegaconf import OmegaConf
from PIL import Image

from gan_zoo.errors import GanZooError

CONF_DIR = Path(__file__).resolve().parents[2] / "conf" / "dataset"
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")


def write_idx(path: Path, array: np.ndarray, gz: bool = True) -> Path:
    """An idx file: magic 00 00 <type> <ndim>, big-endian uint32 dims, big-endian data."""
    codes = {np.dtype(np.uint8): 0x08, np.dtype(np.int8): 0x09, np.dtype(np.int16): 0x0B,
             np.dtype(np.int32): 0x0C, np.dtype(np.float32): 0x0D, np.dtype(np.float64): 0x0E}
    header = bytes([0, 0, codes[array.dtype], array.ndim]) + np.array(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(array.dtype.newbyteorder(">")).tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(gzip.compress(payload) if gz else payload)
    return path


def write_idx_dir(directory: Path, n_train: int = 30, n_test: int = 10, seed: int = 0, gz: bool = True):
    """MNIST-format directory; returns the images/labels written per split."""
    rng = np.random.default_rng(seed)
    out = {}
    for stem, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = (np.arange(n) % 10).astype(np.uint8)
        write_idx(directory / f"{stem}-images-idx3-ubyte{'.gz' if gz else ''}", images, gz)
        write_idx(directory / f"{stem}-labels-idx1-ubyte{'.gz' if gz else ''}", labels, gz)
        out[stem] = (images, labels.astype(np.int64))
    return out


def write_cifar_batches(root: Path, n_per_batch: int = 4, seed: int = 0) -> dict:
    """``root/cifar-10-batches-py`` with data_batch_1..5, test_batch and batches.meta as pickled dicts."""
    rng = np.random.default_rng(seed)
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3072), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(0, 10, size=n_per_batch)]
        entry = {"batch_label": f"fixture {name}", "labels": labels, "data": data,
                 "filenames": [f"img_{i}.png" for i in range(n_per_batch)]}
        with open(folder / name, "wb") as f:
            pickle.dump(entry, f, protocol=2)
        written[name] = (data, np.array(labels, dtype=np.int64))
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({"label_names": [f"class{i}" for i in range(10)], "num_cases_per_batch": n_per_batch,
                     "num_vis": 3072}, f, protocol=2)
    return written


def png_bytes(array_chw: np.ndarray) -> bytes:
    """A [C, H, W] uint8 array as a PNG (mode RGB for C=3, L for C=1)."""
    hwc = array_chw[0] if array_chw.shape[0] == 1 else array_chw.transpose(1, 2, 0)
    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(hwc)).save(buffer, format="png")
    return buffer.getvalue()


def write_png_archive(path: Path, images: np.ndarray, labels: list[int] | None = None, as_zip: bool = True,
                      extra: dict[str, bytes] | None = None) -> Path:
    """stylegan2-ada dataset_tool layout (``00000/img00000000.png`` + ``dataset.json``) as a zip or folder."""
    names = [f"{i // 1000:05d}/img{i:08d}.png" for i in range(len(images))]
    members = {name: png_bytes(img) for name, img in zip(names, images)}
    labels_json = None if labels is None else [[n, int(lbl)] for n, lbl in zip(names, labels)]
    members["dataset.json"] = json.dumps({"labels": labels_json}).encode()
    members.update(extra or {})
    path.parent.mkdir(parents=True, exist_ok=True)
    if as_zip:
        with zipfile.ZipFile(path, "w") as zf:
            for name, data in members.items():
                zf.writestr(name, data)
    else:
        for name, data in members.items():
            (path / name).parent.mkdir(parents=True, exist_ok=True)
            (path / name).write_bytes(data)
    return path


def write_imagenet_npz(directory: Path, resolution: int = 32, n_per_batch: int = 4, seed: int = 0) -> dict:
    """train_data_batch_1..10.npz and val_data.npz: ``data`` uint8 [n, 3*r*r], ``labels`` 1-based."""
    rng = np.random.default_rng(seed)
    directory.mkdir(parents=True, exist_ok=True)
    written = {}
    for name in [f"train_data_batch_{i}" for i in range(1, 11)] + ["val_data"]:
        data = rng.integers(0, 256, size=(n_per_batch, 3 * resolution * resolution), dtype=np.uint8)
        labels = [int(v) for v in rng.integers(1, 1001, size=n_per_batch)]
        np.savez(directory / f"{name}.npz", data=data, labels=labels, mean=data.mean(0))
        written[name] = (data, np.array(labels, dtype=np.int64))
    return written


def dataset_config(name: str, data_dir: Path | str, **overrides):
    """conf/dataset/<name>.yaml inside a minimal root config (paths.data_dir), with overrides applied."""
    node = OmegaConf.load(CONF_DIR / f"{name}.yaml")
    cfg = OmegaConf.create({"paths": {"data_dir": str(data_dir)}, "dataset": node})
    for key, value in overrides.items():
        cfg.dataset[key] = value
    return cfg


def make_dataset(name: str, data_dir: Path | str, **overrides):
    """Instantiate like the entry point: Hydra wraps errors raised by a target in InstantiationException;
    a GanZooError underneath is re-raised as is (what ``gan-zoo-train`` prints as ``error: ...``)."""
    try:
        return hydra.utils.instantiate(dataset_config(name, data_dir, **overrides).dataset)
    except InstantiationException as e:
        if isinstance(e.__cause__, GanZooError):
            raise e.__cause__ from None
        raise


def one_line(exc_info) -> str:
    """The exception's message, asserted to be one line (the user-facing error contract)."""
    message = str(exc_info.value)
    assert "\n" not in message, message
    return message


@pytest.fixture(scope="session")
def fx() -> SimpleNamespace:
    """The writers and helpers above, for tests (conftest modules are not imported by name)."""
    return SimpleNamespace(
        write_idx=write_idx, write_idx_dir=write_idx_dir, write_cifar_batches=write_cifar_batches,
        png_bytes=png_bytes, write_png_archive=write_png_archive, write_imagenet_npz=write_imagenet_npz,
        dataset_config=dataset_config, make_dataset=make_dataset, one_line=one_line,
        conf_dir=CONF_DIR, fashion_mnist_dir=FASHION_MNIST_DIR,
    )
