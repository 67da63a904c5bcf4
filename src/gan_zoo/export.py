"""gan-zoo-export: a trained generator as one standalone ``torch.export`` file that needs only torch to run.

    gan-zoo-export RUN [--out G.pt2] [--device cpu] [--truncation t]

The file is ``torch.export.export`` of G_ema (what :func:`gan_zoo.load` gives, BatchNorm standing statistics
included) with a dynamic batch dimension, saved by ``torch.export.save`` with the run's resolved config and
the generator's shape embedded as extra files. ``torch.export``, not TorchScript: in torch 2.14
``torch.jit.script`` raises NotImplementedError and ``torch.jit.save``/``load`` warn that they are deprecated
in favour of ``torch.export``. Use the file anywhere torch >= 2.3 is::

    import json, torch
    extra = {"gan_zoo_meta.json": "", "gan_zoo_config.json": ""}
    G = torch.export.load("G.pt2", extra_files=extra).module()
    meta = json.loads(extra["gan_zoo_meta.json"])          # z_dim, c_dim, resolution, img_channels, kimg, ...
    z = torch.randn(16, meta["z_dim"], generator=torch.Generator().manual_seed(0))  # = gan_zoo's seed 0
    x = G(z) if meta["c_dim"] == 0 else G(z, torch.nn.functional.one_hot(labels, meta["c_dim"]).float())
    images = (x * 127.5 + 128).clamp(0, 255).to(torch.uint8)   # as gan_zoo writes them

The BatchNorm statistics are frozen at export (for z truncated at ``--truncation``, default none); latents,
labels and uint8 conversion are as :mod:`gan_zoo.api` documents. ``gan_zoo.load("G.pt")`` opens the file
again with the same ``sample`` API.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch
from omegaconf import OmegaConf
from torch import nn

from gan_zoo.api import EXPORT_FORMAT, EXTRA_CONFIG, EXTRA_META, Generator, load
from gan_zoo.errors import GanZooError


class _Unconditional(nn.Module):
    def __init__(self, G: nn.Module) -> None:
        super().__init__()
        self.G = G

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.G(z, None)


class _Conditional(_Unconditional):
    def forward(self, z: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
        return self.G(z, c)


def export_generator(G: Generator, path: str | Path, truncation: float | None = None) -> Path:
    """Export ``G`` (a loaded run; BN statistics prepared for ``truncation``) into ``path``
    (written to a temporary name, then renamed)."""
    if G.exported:
        raise GanZooError(f"{G.source} is already an exported file")
    if G.resolution is None:
        raise GanZooError(f"{G.source}: 2-D point generators are not exported; use gan_zoo.load")
    G.prepare(truncation)
    z = G.latents(4, seed=0).to(G.device)
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    if G.c_dim:
        from gan_zoo.sampling import one_hot

        module, inputs = _Conditional(G.net), (z, one_hot(G.labels(4).to(G.device), G.c_dim))
        dynamic = {"z": {0: batch}, "c": {0: batch}}
    else:
        module, inputs = _Unconditional(G.net), (z,)
        dynamic = {"z": {0: batch}}
    try:
        with torch.no_grad():
            program = torch.export.export(module.eval(), inputs, dynamic_shapes=dynamic)
    except Exception as exc:  # a model torch.export cannot capture: name it, with the reason
        raise GanZooError(f"{G.source}: torch.export failed for model {G.config.model.get('name')} "
                          f"({type(exc).__name__}: {str(exc).splitlines()[0]})") from exc
    meta = {"format": EXPORT_FORMAT, "z_dim": G.z_dim, "c_dim": G.c_dim, "resolution": G.resolution,
            "img_channels": G.img_channels, "kimg": G.kimg, "truncation": truncation,
            "model": str(G.config.model.get("name", "")), "source": str(G.source),
            "call": "G(z)" if not G.c_dim else "G(z, one_hot(labels, c_dim).float())",
            "to_uint8": "(x * 127.5 + 128).clamp(0, 255).to(torch.uint8)"}
    config = OmegaConf.to_container(G.config, resolve=False)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    torch.export.save(program, str(tmp), extra_files={EXTRA_META: json.dumps(meta), EXTRA_CONFIG: json.dumps(config)})
    tmp.replace(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="gan-zoo-export", description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="run directory or .ckpt")
    parser.add_argument("--out", type=Path, help="output file (default <run_dir>/export/generator.pt2)")
    parser.add_argument("--device", default="cpu", help="device the exported graph is built on")
    parser.add_argument("--truncation", type=float, default=None, help="BN statistics for z truncated at t")
    args = parser.parse_args(argv)
    try:
        G = load(args.path, device=args.device)
        out = args.out or Path(G.source).parent.parent / "export" / "generator.pt2"
        print(export_generator(G, out, args.truncation))
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


if __name__ == "__main__":
    main()
