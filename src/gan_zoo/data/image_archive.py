"""Image archives in stylegan2-ada's ``dataset_tool`` layout (Karras et al. 2020), as a folder or a zip.

Layout: PNGs at ``00000/img00000000.png``, ``00000/img00000001.png``, ... (1000 per sub-folder; any relative
PNG paths are accepted, read in sorted order like stylegan2-ada) and an optional ``dataset.json``
``{"labels": [["00000/img00000000.png", 6], ...]}`` or ``{"labels": null}``. ``gan-zoo-prepare`` adds a
``"gan_zoo"`` entry recording the source, resize filter and resolution; stylegan2-ada ignores it.

Images are decoded with PIL and checked, never resized or converted: every image must be
``resolution x resolution`` and mode ``RGB`` (``channels: 3``) or ``L`` (``channels: 1``), else a
:class:`DataError` names the file. Build archives with ``gan-zoo-prepare ffhq|folder`` to get that form.

Memory: all images are decoded once, at start-up, into a uint8 ``[N, C, H, W]`` ``.npy`` cache written
next to the archive (``<archive>.uint8.npy`` plus a ``.json`` stamp of the archive's size and mtime), and
then memory-mapped. Why a cache rather than lazy decoding: every file is validated before training starts
(not at some random step hours in), decoding a 256 px PNG costs about 2 ms of CPU that would otherwise be
paid again every epoch, and a memory map keeps resident memory to what the OS pages in (FFHQ-256 is
13.8 GB as uint8). ``cache: false`` decodes into RAM instead (small sets, read-only media).
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from gan_zoo.data.base import ImageDataset
from gan_zoo.errors import ConfigError, DataError

MODES = {3: "RGB", 1: "L"}
FFHQ_RESOLUTIONS = (64, 256)


class MappedImageDataset(ImageDataset):
    """An ImageDataset over a memory-mapped ``.npy``; items are copies, and it pickles as the file's path."""

    def __init__(self, npy_path: str | Path, labels: np.ndarray | None = None, **kwargs) -> None:
        self.npy_path = str(npy_path)
        super().__init__(np.load(self.npy_path, mmap_mode="r"), labels, **kwargs)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        # copy out of the read-only map: a tensor aliasing it would be unwritable (torch warns; writes crash)
        n = len(self.images)
        img = np.array(self.images[index % n][..., ::-1] if index >= n else self.images[index % n])
        label = int(self.labels[index % n]) if self.labels is not None else 0
        return torch.from_numpy(img), torch.tensor(label, dtype=torch.int64)

    def __getstate__(self) -> dict:
        return {**self.__dict__, "images": None}

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.images = np.load(self.npy_path, mmap_mode="r")


class Archive:
    """Read access to the PNGs and ``dataset.json`` of a folder or zip (closed with ``close()``)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path).expanduser()
        self._zip: zipfile.ZipFile | None = None
        if self.path.is_dir():
            files = [p.relative_to(self.path).as_posix() for p in self.path.rglob("*") if p.is_file()]
        elif self.path.is_file():
            try:
                self._zip = zipfile.ZipFile(self.path)
            except (zipfile.BadZipFile, OSError) as e:
                raise DataError(f"{self.path}: not a readable zip archive ({e}); rebuild it") from e
            files = [n for n in self._zip.namelist() if not n.endswith("/")]
        else:
            raise DataError(
                f"{self.path}: no such folder or zip; build one with gan-zoo-prepare or fix dataset.root"
            )
        self.names = sorted(n for n in files if n.lower().endswith(".png"))
        self._files = set(files)

    def read(self, name: str) -> bytes:
        try:
            if self._zip is not None:
                return self._zip.read(name)
            return (self.path / name).read_bytes()
        except (zipfile.BadZipFile, OSError, EOFError, ValueError) as e:
            raise DataError(
                f"{self.path}/{name}: cannot read ({type(e).__name__}: {e}); rebuild the archive"
            ) from e

    def metadata(self) -> dict:
        if "dataset.json" not in self._files:
            return {}
        try:
            meta = json.loads(self.read("dataset.json"))
        except (json.JSONDecodeError, UnicodeDecodeError) as e:
            raise DataError(f"{self.path}/dataset.json: invalid JSON ({e})") from e
        if not isinstance(meta, dict):
            raise DataError(f"{self.path}/dataset.json: expected an object with a 'labels' key")
        return meta

    def fingerprint(self) -> dict:
        """Identity of the archive's contents for the cache stamp (sizes and mtimes; no hashing)."""
        if self._zip is not None:
            st = self.path.stat()
            return {"path": str(self.path.resolve()), "bytes": st.st_size, "mtime_ns": st.st_mtime_ns}
        stats = [(self.path / n).stat() for n in self.names]
        return {
            "path": str(self.path.resolve()),
            "files": len(stats),
            "bytes": sum(s.st_size for s in stats),
            "mtime_ns": max((s.st_mtime_ns for s in stats), default=0),
        }

    def close(self) -> None:
        if self._zip is not None:
            self._zip.close()


def archive_labels(archive: Archive, meta: dict) -> tuple[np.ndarray, int] | None:
    """Labels of ``archive.names`` from ``dataset.json`` (None when it has none) and the class count."""
    entries = meta.get("labels")
    if entries is None:
        return None
    where = f"{archive.path}/dataset.json"
    try:
        table = {str(name): label for name, label in entries}
    except (TypeError, ValueError) as e:
        raise DataError(f"{where}: 'labels' must be a list of [file, class] pairs ({e})") from e
    if len(table) != len(archive.names) or not set(table) <= set(archive.names):
        missing = sorted(set(archive.names) - set(table))[:1] or sorted(set(table) - set(archive.names))[:1]
        raise DataError(
            f"{where}: {len(table)} labels for {len(archive.names)} images (first mismatch: {missing[0]}); "
            "every PNG needs exactly one label"
        )
    if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in table.values()):
        raise DataError(f"{where}: labels must be class indices (integers >= 0)")
    labels = np.array([table[n] for n in archive.names], dtype=np.int64)
    return labels, int(labels.max()) + 1 if len(labels) else 0


def decode_image(archive: Archive, name: str, resolution: int, channels: int) -> np.ndarray:
    """One PNG as uint8 ``[C, H, W]``; wrong size or mode -> DataError naming the file."""
    where = f"{archive.path}/{name}"
    try:
        with Image.open(io.BytesIO(archive.read(name))) as img:
            if img.size != (resolution, resolution) or img.mode != MODES[channels]:
                raise DataError(
                    f"{where}: {img.size[0]}x{img.size[1]} {img.mode}, expected {resolution}x{resolution} "
                    f"{MODES[channels]}; rebuild the archive with gan-zoo-prepare (it never resizes on load)"
                )
            array = np.asarray(img, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as e:  # PIL's errors for truncated or non-PNG data
        raise DataError(f"{where}: cannot decode ({e}); the file is truncated or corrupt") from e
    return array[None] if array.ndim == 2 else array.transpose(2, 0, 1)


def check_archive_resolution(archive: Archive, resolution: int) -> None:
    """The first image's size must equal ``dataset.resolution`` (per-file checks follow in decode_image)."""
    try:
        with Image.open(io.BytesIO(archive.read(archive.names[0]))) as img:
            width, height = img.size
    except (OSError, SyntaxError, ValueError):
        return  # undecodable: decode_image reports it with the file's name
    if (width, height) != (resolution, resolution) and width == height:
        raise ConfigError(
            f"dataset.resolution = {resolution} but {archive.path} holds {width}x{height} images; "
            f"set dataset.resolution={width} or build a {resolution} px archive with gan-zoo-prepare"
        )


def _decode_into(archive: Archive, out: np.ndarray, resolution: int, channels: int) -> None:
    for i, name in enumerate(archive.names):
        out[i] = decode_image(archive, name, resolution, channels)


def _cache_paths(archive: Archive, cache_dir: str | Path | None) -> tuple[Path, Path]:
    base = archive.path.name + ".uint8"
    folder = Path(cache_dir).expanduser() if cache_dir else archive.path.parent
    return folder / f"{base}.npy", folder / f"{base}.json"


def build_cache(archive: Archive, resolution: int, channels: int, cache_dir: str | Path | None) -> Path:
    """Decode every image once into ``<archive>.uint8.npy`` (atomic), reusing a cache whose stamp matches."""
    npy, stamp_path = _cache_paths(archive, cache_dir)
    stamp = {
        **archive.fingerprint(),
        "num_images": len(archive.names),
        "shape": [channels, resolution, resolution],
    }
    if npy.is_file() and stamp_path.is_file():
        try:
            if json.loads(stamp_path.read_text()) == stamp:
                return npy
        except (OSError, json.JSONDecodeError):
            pass  # unreadable stamp: rebuild
    tmp = npy.with_name(f"{npy.name}.tmp-{os.getpid()}")
    try:
        out = np.lib.format.open_memmap(
            tmp, mode="w+", dtype=np.uint8, shape=(len(archive.names), *stamp["shape"])
        )
    except OSError as e:
        raise DataError(
            f"{tmp.parent}: cannot write the image cache ({e.strerror}); set dataset.cache_dir to a writable "
            "folder or dataset.cache=false"
        ) from e
    try:
        _decode_into(archive, out, resolution, channels)
        out.flush()
        del out
        os.replace(tmp, npy)
    finally:
        tmp.unlink(missing_ok=True)
    stamp_tmp = stamp_path.with_name(f"{stamp_path.name}.tmp-{os.getpid()}")
    stamp_tmp.write_text(json.dumps(stamp))
    os.replace(stamp_tmp, stamp_path)
    return npy


def image_folder(
    root: str | Path,
    resolution: int,
    labels: bool = False,
    xflip: bool = False,
    channels: int = 3,
    cache: bool = True,
    cache_dir: str | Path | None = None,
    name: str = "folder",
) -> ImageDataset:
    """A dataset_tool-layout folder or zip of ``resolution`` px PNGs as uint8 ``[N, channels, res, res]``."""
    if channels not in MODES:
        raise ConfigError(f"dataset.channels = {channels}: use 3 (RGB PNGs) or 1 (greyscale PNGs)")
    archive = Archive(root)
    try:
        if not archive.names:
            raise DataError(f"{archive.path}: no PNG images in it; build the archive with gan-zoo-prepare")
        meta = archive.metadata()
        labelled = archive_labels(archive, meta)
        if labels and labelled is None:
            raise ConfigError(
                f"dataset.labels = true but {archive.path} has no labels in dataset.json; "
                "set dataset.labels=false"
            )
        check_archive_resolution(archive, resolution)
        if cache:
            npy = build_cache(archive, resolution, channels, cache_dir)
        else:
            images = np.empty((len(archive.names), channels, resolution, resolution), dtype=np.uint8)
            _decode_into(archive, images, resolution, channels)
    finally:
        archive.close()
    prep = meta.get("gan_zoo") or {}
    source = str(archive.path) + (
        f" ({prep['filter']} resize from {prep['source']})" if "filter" in prep else ""
    )
    label_array, num_classes = labelled if (labels and labelled) else (None, 0)
    kwargs = dict(num_classes=num_classes, name=name, source=source, xflip=xflip)
    if cache:
        return MappedImageDataset(npy, label_array, **kwargs)
    return ImageDataset(images, label_array, **kwargs)


def ffhq(
    root: str | Path,
    resolution: int = 256,
    xflip: bool = True,
    cache: bool = True,
    cache_dir: str | Path | None = None,
) -> ImageDataset:
    """FFHQ (Karras et al. 2019), 70k unlabelled faces, from a 64 or 256 px archive (gan-zoo-prepare ffhq)."""
    if resolution not in FFHQ_RESOLUTIONS:
        raise ConfigError(f"dataset.resolution = {resolution}: the FFHQ presets are 64 or 256 px")
    return image_folder(
        root,
        resolution,
        labels=False,
        xflip=xflip,
        channels=3,
        cache=cache,
        cache_dir=cache_dir,
        name=f"ffhq{resolution}",
    )
