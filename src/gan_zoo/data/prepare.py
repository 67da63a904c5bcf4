"""``gan-zoo-prepare``: turn downloaded datasets into the forms the loaders read.

- ``ffhq``: FFHQ's 1024 px PNGs (Karras et al. 2019) -> a 64 or 256 px archive in stylegan2-ada's
  ``dataset_tool`` layout (``00000/img00000000.png``, ``dataset.json``). Resized in one step with a stated PIL
  filter, LANCZOS by default as dataset_tool does; FID depends on that choice (stylegan2-ada issue #283), so
  the filter, the source folder and the resolutions are recorded under ``"gan_zoo"`` in ``dataset.json``.
- ``folder``: any images PIL reads -> an archive at one resolution: centre-cropped to a square (the shorter
  side), resized with the filter, converted to RGB (alpha dropped) or L; ``--labels`` takes each image's
  class from its first sub-folder (sorted names -> 0, 1, ...).
- ``imagenet``: downsampled-ImageNet ``.npz`` batches -> memory-mappable ``.npy`` (see
  :mod:`gan_zoo.data.imagenet`).

``--dest`` ending in ``.zip`` writes a zip (stored, since PNG is already compressed; written to a temporary
name, then renamed), otherwise a folder (likewise). Errors print one line ``error: ...`` and exit with
status 2.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

from PIL import Image

from gan_zoo.data.imagenet import RESOLUTIONS as IMAGENET_RESOLUTIONS
from gan_zoo.data.imagenet import convert_to_npy
from gan_zoo.errors import ConfigError, DataError, exit_code_of

FILTERS = {
    "lanczos": Image.Resampling.LANCZOS,
    "bicubic": Image.Resampling.BICUBIC,
    "bilinear": Image.Resampling.BILINEAR,
    "box": Image.Resampling.BOX,
    "hamming": Image.Resampling.HAMMING,
    "nearest": Image.Resampling.NEAREST,
}
FFHQ_SOURCE_RESOLUTION = 1024
FFHQ_RESOLUTIONS = (64, 256)


def archive_name(index: int) -> str:
    """dataset_tool's member name: 1000 images per sub-folder."""
    return f"{index // 1000:05d}/img{index:08d}.png"


class ArchiveWriter:
    """Writes PNG members and ``dataset.json`` to a new zip or folder (a temporary name until closed)."""

    def __init__(self, dest: str | Path) -> None:
        self.dest = Path(dest).expanduser()
        if self.dest.exists():
            raise ConfigError(f"--dest {self.dest}: already exists; remove it or choose another path")
        self.is_zip = self.dest.suffix.lower() == ".zip"
        self.dest.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = self.dest.with_name(f"{self.dest.name}.tmp-{os.getpid()}")
        if self.is_zip:
            self._zip = zipfile.ZipFile(self._tmp, "w", compression=zipfile.ZIP_STORED)
        else:
            self._tmp.mkdir()

    def write(self, name: str, data: bytes) -> None:
        if self.is_zip:
            self._zip.writestr(name, data)
        else:
            (self._tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (self._tmp / name).write_bytes(data)

    def close(self, ok: bool) -> None:
        if self.is_zip:
            self._zip.close()
        if ok:
            os.replace(self._tmp, self.dest)
        elif self.is_zip:
            self._tmp.unlink(missing_ok=True)
        else:
            shutil.rmtree(self._tmp, ignore_errors=True)


def list_images(source: Path, extensions: set[str]) -> list[Path]:
    if not source.is_dir():
        raise DataError(f"{source}: no such folder; pass the folder holding the images as --source")
    files = sorted(p for p in source.rglob("*") if p.is_file() and p.suffix.lower() in extensions)
    if not files:
        raise DataError(f"{source}: no images ({', '.join(sorted(extensions))}) in it")
    return files


def open_image(path: Path) -> Image.Image:
    try:
        img = Image.open(path)
        img.load()
    except (OSError, SyntaxError, ValueError) as e:
        raise DataError(f"{path}: cannot decode ({e}); the file is truncated or not an image") from e
    return img


def center_crop(img: Image.Image) -> Image.Image:
    side = min(img.size)
    left, top = (img.width - side) // 2, (img.height - side) // 2
    return img.crop((left, top, left + side, top + side))


def png_bytes(img: Image.Image) -> bytes:
    buffer = io.BytesIO()
    img.save(buffer, format="png")
    return buffer.getvalue()


def write_archive(
    dest: str | Path, images: Iterator[Image.Image], labels: list[int] | None, meta: dict
) -> int:
    """Write every image (already at its final size and mode) and ``dataset.json``; returns the count."""
    writer = ArchiveWriter(dest)
    ok, count = False, 0
    try:
        for count, img in enumerate(images, start=1):
            writer.write(archive_name(count - 1), png_bytes(img))
        label_list = None if labels is None else [[archive_name(i), lbl] for i, lbl in enumerate(labels)]
        document = {"labels": label_list, "gan_zoo": {**meta, "num_images": count}}
        writer.write("dataset.json", json.dumps(document).encode())
        ok = True
    finally:
        writer.close(ok)
    return count


def prepare_ffhq(
    source: str | Path,
    dest: str | Path,
    resolution: int,
    filter: str = "lanczos",
    max_images: int | None = None,
) -> int:
    """FFHQ 1024 px PNGs -> ``resolution`` px archive; every source image must be 1024x1024 RGB."""
    if resolution not in FFHQ_RESOLUTIONS:
        raise ConfigError(
            f"--resolution {resolution}: the FFHQ presets are 64 or 256 px (use 'folder' otherwise)"
        )
    files = list_images(Path(source).expanduser(), {".png"})[:max_images]

    def images() -> Iterator[Image.Image]:
        for path in files:
            img = open_image(path)
            if img.size != (FFHQ_SOURCE_RESOLUTION,) * 2 or img.mode != "RGB":
                raise DataError(
                    f"{path}: {img.width}x{img.height} {img.mode}, expected FFHQ's 1024x1024 RGB PNGs"
                )
            yield img.resize((resolution, resolution), resample=FILTERS[filter])

    meta = {
        "tool": "gan-zoo-prepare ffhq",
        "source": str(Path(source).resolve()),
        "filter": filter,
        "source_resolution": FFHQ_SOURCE_RESOLUTION,
        "resolution": resolution,
        "crop": "none",
    }
    return write_archive(dest, images(), None, meta)


def prepare_folder(
    source: str | Path,
    dest: str | Path,
    resolution: int,
    filter: str = "lanczos",
    labels: bool = False,
    channels: int = 3,
) -> int:
    """Any images -> centre-cropped, resized ``resolution`` px archive (labels from sub-folders if asked)."""
    if resolution < 1:
        raise ConfigError(f"--resolution {resolution}: must be a positive number of pixels")
    source = Path(source).expanduser()
    extensions = {ext for ext, fmt in Image.registered_extensions().items() if fmt in Image.OPEN}
    files = list_images(source, extensions)
    class_names, label_list = None, None
    if labels:
        if any(len(p.relative_to(source).parts) < 2 for p in files):
            loose = next(p for p in files if len(p.relative_to(source).parts) < 2)
            raise DataError(f"{loose}: with --labels every image must sit in a class sub-folder of {source}")
        class_names = sorted({p.relative_to(source).parts[0] for p in files})
        label_list = [class_names.index(p.relative_to(source).parts[0]) for p in files]
    mode = "RGB" if channels == 3 else "L"

    def images() -> Iterator[Image.Image]:
        for path in files:
            img = center_crop(open_image(path).convert(mode))
            yield img.resize((resolution, resolution), resample=FILTERS[filter])

    meta = {
        "tool": "gan-zoo-prepare folder",
        "source": str(source.resolve()),
        "filter": filter,
        "resolution": resolution,
        "crop": "center",
        "mode": mode,
        "class_names": class_names,
    }
    return write_archive(dest, images(), label_list, meta)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gan-zoo-prepare", description="Turn downloaded datasets into the forms gan_zoo loads."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    ffhq = sub.add_parser("ffhq", help="FFHQ 1024 px PNGs -> 64/256 px dataset_tool archive")
    ffhq.add_argument(
        "--source", required=True, help="folder of FFHQ's 1024x1024 PNGs (searched recursively)"
    )
    ffhq.add_argument("--dest", required=True, help="output .zip or folder, e.g. data/ffhq256.zip")
    ffhq.add_argument("--resolution", type=int, choices=FFHQ_RESOLUTIONS, default=256)
    ffhq.add_argument("--filter", choices=sorted(FILTERS), default="lanczos", help="PIL resize filter")
    ffhq.add_argument("--max-images", type=int, default=None, help="only the first N images (sorted)")
    folder = sub.add_parser("folder", help="any images -> dataset_tool archive at one resolution")
    folder.add_argument("--source", required=True, help="folder of images (searched recursively)")
    folder.add_argument("--dest", required=True, help="output .zip or folder")
    folder.add_argument("--resolution", type=int, required=True)
    folder.add_argument("--filter", choices=sorted(FILTERS), default="lanczos", help="PIL resize filter")
    folder.add_argument("--labels", action="store_true", help="class = first sub-folder name (sorted)")
    folder.add_argument("--channels", type=int, choices=(1, 3), default=3, help="3 = RGB, 1 = greyscale")
    imnet = sub.add_parser("imagenet", help="downsampled-ImageNet npz batches -> memory-mapped .npy")
    imnet.add_argument(
        "--source", required=True, help="folder with train_data_batch_1..10.npz / val_data.npz"
    )
    imnet.add_argument("--resolution", type=int, choices=IMAGENET_RESOLUTIONS, required=True)
    imnet.add_argument("--split", choices=("train", "val"), default="train")
    imnet.add_argument("--dest", default=None, help="output folder (default: --source)")
    return parser


def run(args: argparse.Namespace) -> str:
    if args.command == "ffhq":
        n = prepare_ffhq(args.source, args.dest, args.resolution, args.filter, args.max_images)
        return f"wrote {n} images ({args.resolution} px, {args.filter}) to {args.dest}"
    if args.command == "folder":
        n = prepare_folder(args.source, args.dest, args.resolution, args.filter, args.labels, args.channels)
        return f"wrote {n} images ({args.resolution} px, {args.filter}) to {args.dest}"
    path = convert_to_npy(args.source, args.resolution, args.split, args.dest)
    return f"wrote {path} (memory-mappable); load it with dataset=imagenet{args.resolution}"


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return exit_code_of(lambda: print(run(args)))


if __name__ == "__main__":
    sys.exit(main())
