"""gan-zoo-sample: pictures from a trained generator, without its dataset (run dir, .ckpt or exported file).

    gan-zoo-sample grid    RUN [--columns 8] [--seed 123] [--truncation 0.5] [--out grid.png]
    gan-zoo-sample interp  RUN [--mode slerp] [--steps 16] [--rows 4] [--class 3] [--gif] [--webp]
    gan-zoo-sample folders RUN --per-class 100 [--out DIR]          # DIR/<class>/<index>.png
    gan-zoo-sample npz     RUN -n 50000 [--out samples.npz]         # for external FID tools

Every command takes ``--device cpu|cuda``, ``--seed`` and ``--truncation t`` (BigGAN's truncated z; see
:mod:`gan_zoo.api` for exactly how a seed becomes a sample). Outputs go to ``<run_dir>/generated/`` unless
``--out`` says otherwise.

- ``grid``: a conditional model gets one row per class (first ``--max-classes``) and the same z in each column,
  so a column shows one latent across the classes; an unconditional model a square-ish grid of ``--n``.
- ``interp``: ``--rows`` latent paths from z_a to z_b in ``--steps`` frames, by ``lerp`` (straight line) or
  ``slerp`` (great circle, White 2016, "Sampling Generative Networks", Sec. 2.1: for Gaussian z the norm
  stays typical along the path); a PNG strip (rows x steps) and, with ``--gif``/``--webp``, an animation with
  one frame per step.
- ``folders``: class-balanced PNGs, one folder per class (``all/`` when unconditional): the layout
  torch-fidelity (``--samples-find-deep``) and clean-fid read as a directory input.
- ``npz``: ``arr_0`` uint8 ``[N, H, W, C]`` (the layout of the ADM/guided-diffusion evaluation suite) and
  ``arr_1`` int64 labels; :class:`NpzImages` serves it to torch-fidelity's API as a Dataset of uint8
  ``[3, H, W]`` (greyscale repeated to RGB), ``np.load(path)["arr_0"]`` to anything else.
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path

import numpy as np
import torch

from gan_zoo.errors import GanZooError


# -- latent paths -----------------------------------------------------------------------------------------
def lerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """``(1 - t) a + t b`` for rows ``a``, ``b`` ``[R, D]`` and fractions ``t`` ``[S]`` -> ``[R, S, D]``."""
    t = t.view(1, -1, 1).to(a.dtype)
    return (1 - t) * a[:, None] + t * b[:, None]


def slerp(a: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Spherical interpolation (Shoemake 1985; White 2016 Sec. 2.1):
    ``sin((1-t) w) / sin w * a + sin(t w) / sin w * b`` with ``w`` the angle between a and b; falls back to
    lerp where a and b are (anti)parallel. ``[R, D]``, ``[R, D]``, ``[S]`` -> ``[R, S, D]``."""
    a64, b64 = a.double(), b.double()
    cos = (a64 * b64).sum(-1) / (a64.norm(dim=-1) * b64.norm(dim=-1)).clamp_min(1e-300)
    omega = torch.arccos(cos.clamp(-1, 1))[:, None, None]  # [R, 1, 1]
    t64 = t.double().view(1, -1, 1)
    sin = torch.sin(omega)
    safe = sin.abs() > 1e-6
    wa = torch.where(safe, torch.sin((1 - t64) * omega) / torch.where(safe, sin, 1.0), 1 - t64)
    wb = torch.where(safe, torch.sin(t64 * omega) / torch.where(safe, sin, 1.0), t64)
    return (wa * a64[:, None] + wb * b64[:, None]).to(a.dtype)


# -- writing images ---------------------------------------------------------------------------------------
def auto_scale(resolution: int) -> int:
    """Small images (8-16 px) are enlarged, nearest, to be seen; as the run's own grids."""
    return max(1, 32 // resolution)


def grid_image(images: torch.Tensor, nrow: int, scale: int = 1) -> torch.Tensor:
    """uint8 ``[N, C, H, W]`` -> one uint8 ``[C, H', W']`` picture, ``nrow`` images per row, padding 1."""
    from torchvision.utils import make_grid

    pixels = images.repeat_interleave(scale, dim=-1).repeat_interleave(scale, dim=-2)
    return make_grid(pixels, nrow=max(int(nrow), 1), padding=1)


def write_png(image: torch.Tensor, path: Path) -> Path:
    from torchvision.io import write_png as _write

    path.parent.mkdir(parents=True, exist_ok=True)
    _write(image.cpu(), str(path))
    return path


def write_animation(frames: list[torch.Tensor], path: Path, duration_ms: int = 80) -> Path:
    """uint8 ``[C, H, W]`` frames -> an animated GIF or WebP (by the suffix), looping."""
    from PIL import Image

    def pil(frame: torch.Tensor) -> Image.Image:
        hwc = frame.permute(1, 2, 0).cpu().numpy()
        return Image.fromarray(hwc[..., 0] if hwc.shape[-1] == 1 else hwc)

    images = [pil(f) for f in frames]
    path.parent.mkdir(parents=True, exist_ok=True)
    extra = {"lossless": True} if path.suffix.lower() == ".webp" else {}
    images[0].save(path, save_all=True, append_images=images[1:], duration=duration_ms, loop=0, **extra)
    return path


# -- the commands -----------------------------------------------------------------------------------------
def class_grid(G, columns: int = 8, seed: int = 123, truncation: float | None = None,
               max_classes: int = 16, n: int = 64) -> tuple[torch.Tensor, int]:
    """uint8 samples laid out row-major and the row length: one row per class (the same ``columns`` latents
    in every row) for a conditional G, else ``n`` samples in a square-ish grid."""
    if not G.c_dim:
        return G.sample(n, seed=seed, truncation=truncation), max(1, int(math.sqrt(n)))
    rows = min(G.c_dim, max_classes)
    z = G.latents(columns, seed, truncation).repeat(rows, 1)
    labels = torch.arange(rows).repeat_interleave(columns)
    G.prepare(truncation)
    from gan_zoo.data.base import to_uint8

    return to_uint8(G.synthesize(z, labels)), columns


def interpolation(G, steps: int = 16, rows: int = 4, mode: str = "slerp", seed: int = 0,
                  truncation: float | None = None, cls: int | None = None) -> torch.Tensor:
    """uint8 ``[rows, steps, C, H, W]``: row r walks from latent 2r to latent 2r+1 of ``seed``."""
    if mode not in ("lerp", "slerp"):
        raise GanZooError(f"--mode {mode}: pick lerp or slerp")
    if steps < 2:
        raise GanZooError(f"--steps {steps}: an interpolation needs at least 2 steps")
    ends = G.latents(2 * rows, seed, truncation)
    path = (slerp if mode == "slerp" else lerp)(ends[0::2], ends[1::2], torch.linspace(0, 1, steps))
    if not G.c_dim or cls is not None:
        labels = G.labels(rows * steps, cls)  # zeros (unconditional), or ``cls`` everywhere
    else:  # one class per row, held along the row
        labels = (torch.arange(rows) % G.c_dim).repeat_interleave(steps)
    G.prepare(truncation)
    from gan_zoo.data.base import to_uint8

    out = to_uint8(G.synthesize(path.reshape(rows * steps, -1), labels))
    return out.view(rows, steps, *out.shape[1:])


def write_folders(G, out: Path, per_class: int, seed: int = 0, truncation: float | None = None,
                  batch_size: int = 256) -> int:
    """``per_class`` PNGs per class under ``out/<class>/`` (``out/all/`` when unconditional); returns N."""
    classes = max(G.c_dim, 1)
    n = per_class * classes
    images = G.sample(n, seed=seed, truncation=truncation, batch_size=batch_size)  # class i % c_dim
    labels = G.labels(n)
    from PIL import Image

    for i, (img, label) in enumerate(zip(images, labels.tolist())):
        folder = out / (f"{label:04d}" if G.c_dim else "all")
        folder.mkdir(parents=True, exist_ok=True)
        hwc = img.permute(1, 2, 0).numpy()
        Image.fromarray(hwc[..., 0] if hwc.shape[-1] == 1 else hwc).save(folder / f"{i:07d}.png")
    return n


def write_npz(G, path: Path, n: int, seed: int = 0, truncation: float | None = None,
              batch_size: int = 256) -> Path:
    """``arr_0`` uint8 ``[n, H, W, C]`` and ``arr_1`` int64 labels (class ``i % c_dim``; zeros if
    unconditional), written to a temporary name and renamed."""
    images = G.sample(n, seed=seed, truncation=truncation, batch_size=batch_size)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp.npz")
    np.savez(tmp, arr_0=images.permute(0, 2, 3, 1).contiguous().numpy(), arr_1=G.labels(n).numpy())
    tmp.replace(path)
    return path


class NpzImages(torch.utils.data.Dataset):
    """An ``.npz`` of uint8 ``arr_0`` ``[N, H, W, C]`` as torch-fidelity's input: uint8 ``[3, H, W]`` items
    (greyscale repeated to RGB), e.g. ``torch_fidelity.calculate_metrics(input1=NpzImages(path), ...)``."""

    def __init__(self, path: str | Path) -> None:
        with np.load(path) as data:
            if "arr_0" not in data:
                raise GanZooError(f"{path}: no arr_0 in it; write it with gan-zoo-sample npz")
            self.images = torch.from_numpy(data["arr_0"]).permute(0, 3, 1, 2)
        if self.images.dtype != torch.uint8 or self.images.shape[1] not in (1, 3):
            raise GanZooError(f"{path}: arr_0 must be uint8 [N, H, W, 1 or 3], got {tuple(self.images.shape)}")

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, i: int) -> torch.Tensor:
        x = self.images[i]
        return x.expand(3, -1, -1).contiguous() if x.shape[0] == 1 else x


# -- CLI --------------------------------------------------------------------------------------------------
def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="gan-zoo-sample", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, seed: int) -> None:
        p.add_argument("path", help="run directory, .ckpt or gan-zoo-export file")
        p.add_argument("--out", type=Path, help="output file or folder (default under <run_dir>/generated)")
        p.add_argument("--seed", type=int, default=seed)
        p.add_argument("--truncation", type=float, default=None, help="BigGAN truncation threshold t")
        p.add_argument("--device", default="cpu")

    p = sub.add_parser("grid", help="fixed-seed grid, one row per class")
    common(p, 123)
    p.add_argument("--columns", type=int, default=8, help="samples per class row (conditional)")
    p.add_argument("--n", type=int, default=64, help="samples (unconditional)")
    p.add_argument("--max-classes", type=int, default=16)
    p.add_argument("--scale", type=int, default=None, help="nearest enlargement (default: to about 32 px)")
    p = sub.add_parser("interp", help="latent interpolations: PNG strip, GIF/WebP")
    common(p, 0)
    p.add_argument("--mode", choices=["lerp", "slerp"], default="slerp")
    p.add_argument("--steps", type=int, default=16)
    p.add_argument("--rows", type=int, default=4)
    p.add_argument("--class", dest="cls", type=int, default=None, help="hold this class (default: row r -> r)")
    p.add_argument("--gif", action="store_true")
    p.add_argument("--webp", action="store_true")
    p.add_argument("--scale", type=int, default=None)
    p = sub.add_parser("folders", help="per-class folders of PNGs")
    common(p, 0)
    p.add_argument("--per-class", type=int, required=True)
    p = sub.add_parser("npz", help="an .npz of N samples for external metric tools")
    common(p, 0)
    p.add_argument("-n", type=int, required=True)
    return parser


def _default_out(G, name: str) -> Path:
    source = Path(G.source)
    base = source.parent.parent if source.parent.name == "checkpoints" else source.parent
    return base / "generated" / name


def main(argv: list[str] | None = None) -> None:
    args = _parser().parse_args(argv)
    from gan_zoo.api import load

    try:
        G = load(args.path, device=args.device)
        if G.resolution is None:
            raise GanZooError(f"{args.path}: a 2-D point generator has no images; sample its points with "
                              "gan_zoo.load(path).sample(n)")
        t = "" if args.truncation is None else f"-t{args.truncation:g}"
        if args.command == "grid":
            images, nrow = class_grid(G, args.columns, args.seed, args.truncation, args.max_classes, args.n)
            out = args.out or _default_out(G, f"grid-seed{args.seed}{t}.png")
            written = [write_png(grid_image(images, nrow, args.scale or auto_scale(G.resolution)), out)]
        elif args.command == "interp":
            frames = interpolation(G, args.steps, args.rows, args.mode, args.seed, args.truncation, args.cls)
            scale = args.scale or auto_scale(G.resolution)
            out = args.out or _default_out(G, f"interp-{args.mode}-seed{args.seed}{t}.png")
            strip = grid_image(frames.flatten(0, 1), args.steps, scale)
            written = [write_png(strip, out)]
            animation = [grid_image(frames[:, s], 1, scale) for s in range(args.steps)]  # rows stacked
            for flag, suffix in ((args.gif, ".gif"), (args.webp, ".webp")):
                if flag:
                    written.append(write_animation(animation, out.with_suffix(suffix)))
        elif args.command == "folders":
            out = args.out or _default_out(G, f"folders-seed{args.seed}{t}")
            n = write_folders(G, out, args.per_class, args.seed, args.truncation)
            written = [out]
            print(f"{n} PNGs")
        else:
            out = args.out or _default_out(G, f"samples-{args.n}-seed{args.seed}{t}.npz")
            written = [write_npz(G, out, args.n, args.seed, args.truncation)]
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    for path in written:
        print(path)


if __name__ == "__main__":
    main()
