"""``gan_zoo.load``: a trained generator as a one-liner, without the dataset or the training flags.

    import gan_zoo
    G = gan_zoo.load("runs/demo/2026-11-22_10-00-00", device="cuda")   # a run dir, a .ckpt or an exported file
    images = G.sample(16, classes=[3] * 16, seed=0)                    # uint8 [16, C, H, W]
    floats = G.sample(16, seed=0, output="float")                      # G's output, about [-1, 1]

What a sample is, exactly (so that anything else can reproduce it):

- latents: ``z = torch.randn(n, z_dim, generator=torch.Generator().manual_seed(seed))`` drawn on the CPU (the
  draw of :func:`gan_zoo.sampling.fixed_latents`, so ``seed=123, n=64`` gives the run's own sample grids), or,
  with ``truncation=t``, BigGAN's truncated normal from the same generator
  (:func:`gan_zoo.sampling.truncated_normal`: entries with ``|z_i| > t`` resampled);
- labels: ``classes=None`` cycles through the classes (sample i has class ``i % c_dim``), an int gives every
  sample that class, a sequence gives one class per sample; one-hot float ``c`` as every G in gan_zoo takes;
- BatchNorm generators (BigGAN, DCGAN) are sampled with standing statistics re-estimated as the run's config
  says (:mod:`gan_zoo.standing_stats`; deterministic, the same the sample callback uses), with z truncated
  at ``t`` when sampling at ``t`` (BigGAN App. C);
- uint8 images: :func:`gan_zoo.data.base.to_uint8` (``x * 127.5 + 128``, clamped), as the grids are written.

Nothing here touches the dataset config: a run directory whose data is gone samples as before.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Sequence
from pathlib import Path

import torch
from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import GanZooError

EXPORT_FORMAT = "gan_zoo.export/1"
EXTRA_META = "gan_zoo_meta.json"
EXTRA_CONFIG = "gan_zoo_config.json"


class Generator:
    """A trained generator: ``sample``, ``synthesize``, ``latents``, ``labels``; ``z_dim``, ``c_dim``,
    ``resolution`` (None for 2-D point generators), ``img_channels``, ``config`` (the run's resolved config),
    ``kimg`` (training length of the checkpoint), ``source`` (the file it came from), ``net`` (the module)."""

    def __init__(self, net: torch.nn.Module, config: DictConfig, *, z_dim: int, c_dim: int,
                 resolution: int | None, img_channels: int, kimg: float, source: Path,
                 device: torch.device, exported: bool = False) -> None:
        self.net, self.config, self.kimg, self.source, self.device = net, config, kimg, source, device
        self.z_dim, self.c_dim, self.resolution, self.img_channels = z_dim, c_dim, resolution, img_channels
        # An exported file is called net(z) / net(z, c) and has its BN statistics frozen in it (gan_zoo.export)
        self.exported = exported
        self._stats_t: object = "unset"

    def __repr__(self) -> str:
        return (f"Generator({self.source}, z_dim={self.z_dim}, c_dim={self.c_dim}, resolution={self.resolution}, "
                f"kimg={self.kimg:g}, device={self.device})")

    # -- the pieces of a sample --------------------------------------------------------------------------
    def latents(self, n: int, seed: int | None = None, truncation: float | None = None) -> torch.Tensor:
        """``[n, z_dim]`` latents on the CPU (module docstring); ``seed=None`` draws a fresh random seed."""
        gen = torch.Generator()
        gen.manual_seed(int(seed)) if seed is not None else gen.seed()
        from gan_zoo.sampling import truncated_normal

        return truncated_normal((int(n), self.z_dim), truncation, gen)

    def labels(self, n: int, classes: int | Sequence[int] | torch.Tensor | None = None) -> torch.Tensor:
        """int64 class indices ``[n]`` (zeros for an unconditional G); one-line error for a bad ``classes``."""
        if classes is None:
            return torch.arange(n) % self.c_dim if self.c_dim else torch.zeros(n, dtype=torch.int64)
        if not self.c_dim:
            raise GanZooError(f"{self.source}: this generator is unconditional (c_dim=0); sample with classes=None")
        labels = torch.as_tensor(classes, dtype=torch.int64)
        labels = labels.expand(n).clone() if labels.ndim == 0 else labels.flatten()
        if len(labels) != n:
            raise GanZooError(f"classes has {len(labels)} entries for n={n} samples: pass one class or n of them")
        bad = labels[(labels < 0) | (labels >= self.c_dim)]
        if len(bad):
            raise GanZooError(f"class {int(bad[0])} is out of range: this generator has classes 0..{self.c_dim - 1}")
        return labels

    @torch.no_grad()
    def synthesize(self, z: torch.Tensor, labels: torch.Tensor | None = None) -> torch.Tensor:
        """G's float output for latents ``z`` and int labels (moved to the generator's device), on the CPU."""
        z = z.to(self.device, torch.float32)
        if self.c_dim:
            from gan_zoo.sampling import one_hot

            labels = self.labels(len(z)) if labels is None else labels
            return self.net(z, one_hot(labels.to(self.device), self.c_dim)).float().cpu()
        return (self.net(z) if self.exported else self.net(z, None)).float().cpu()

    def prepare(self, truncation: float | None = None) -> None:
        """BatchNorm G: standing statistics for sampling at ``truncation`` (cached; no-op without BN)."""
        if self.exported or self._stats_t == truncation:
            return
        from gan_zoo.standing_stats import accumulate_standing_stats

        opts = dict(self.config.get("standing_stats") or {})
        accumulate_standing_stats(self.net, int(opts.get("passes", 16)), int(opts.get("batch_size", 64)),
                                  truncation, int(opts.get("seed", 0)), self.device)
        self._stats_t = truncation

    # -- the one-liner ------------------------------------------------------------------------------------
    def sample(self, n: int, classes: int | Sequence[int] | torch.Tensor | None = None, seed: int | None = None,
               truncation: float | None = None, output: str = "uint8", batch_size: int = 256) -> torch.Tensor:
        """``n`` samples: uint8 ``[n, C, H, W]`` (``output="uint8"``) or G's float output (``output="float"``;
        2-D point generators always give float points ``[n, 2]``). Seeded samples are reproducible on any
        device; ``batch_size`` bounds memory only."""
        if output not in ("uint8", "float"):
            raise GanZooError(f"output={output!r}: pick 'uint8' or 'float'")
        if int(n) <= 0:
            raise GanZooError(f"n={n}: the number of samples must be positive")
        z, labels = self.latents(n, seed, truncation), self.labels(int(n), classes)
        self.prepare(truncation)
        out = torch.cat([self.synthesize(z[i : i + batch_size], labels[i : i + batch_size])
                         for i in range(0, int(n), batch_size)])
        if output == "float" or self.resolution is None:
            return out
        from gan_zoo.data.base import to_uint8

        return to_uint8(out)


def load(path: str | Path, device: str | torch.device = "cpu") -> Generator:
    """A run directory (its ``checkpoints/last.ckpt``), any gan_zoo ``.ckpt``, or a file written by
    ``gan-zoo-export`` -> :class:`Generator` in eval mode on ``device``. Never instantiates the dataset."""
    device = torch.device(device)
    p = Path(path).expanduser()
    if p.is_file() and is_export(p):
        return _load_export(p, device)
    from gan_zoo.checkpoint import load_run

    run = load_run(p, device=device)
    G = run.G_ema
    return Generator(G, run.cfg, z_dim=int(G.z_dim), c_dim=int(G.c_dim or 0), resolution=G.resolution,
                     img_channels=int(getattr(G, "img_channels", 0) or 0), kimg=run.kimg, source=run.ckpt_path,
                     device=device)


def is_export(path: Path) -> bool:
    """Whether ``path`` is a ``torch.export`` archive with gan_zoo's metadata (see :mod:`gan_zoo.export`)."""
    if not zipfile.is_zipfile(path):
        return False
    with zipfile.ZipFile(path) as archive:
        return any(name.endswith(f"extra/{EXTRA_META}") for name in archive.namelist())


def _load_export(path: Path, device: torch.device) -> Generator:
    extra = {EXTRA_META: "", EXTRA_CONFIG: ""}
    try:
        program = torch.export.load(str(path), extra_files=extra)
        meta, config = json.loads(extra[EXTRA_META]), json.loads(extra[EXTRA_CONFIG])
        if device.type != "cpu":
            from torch.export.passes import move_to_device_pass

            program = move_to_device_pass(program, device)
        net = program.module()
    except Exception as exc:  # a damaged archive
        raise GanZooError(f"{path} is not a readable gan-zoo-export file ({type(exc).__name__}: {exc})") from exc
    if meta.get("format") != EXPORT_FORMAT:
        raise GanZooError(f"{path}: export format {meta.get('format')!r}, this gan_zoo reads {EXPORT_FORMAT!r}")
    return Generator(net, OmegaConf.create(config), z_dim=meta["z_dim"], c_dim=meta["c_dim"],
                     resolution=meta["resolution"], img_channels=meta["img_channels"], kimg=meta["kimg"],
                     source=path, device=device, exported=True)
