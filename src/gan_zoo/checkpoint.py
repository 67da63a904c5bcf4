"""Checkpoints: atomic writes, and loading a run's G_ema without its dataset.

A checkpoint is written to a temporary file in the same directory and moved over the target with
``os.replace`` (atomic on POSIX), so a crash mid-write never leaves a half-written ``last.ckpt``.
Every checkpoint carries the resolved run config (``checkpoint["gan_zoo_config"]``), so it can be sampled
and evaluated with nothing else.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import GanZooError


def atomic_save(trainer, path: str | Path) -> None:
    """``trainer.save_checkpoint`` to a temp file, then rename over ``path`` (global rank 0 renames)."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    trainer.save_checkpoint(tmp, weights_only=False)  # the full state: resume needs optimizers and loops
    if trainer.is_global_zero:
        os.replace(tmp, path)
    trainer.strategy.barrier("atomic_save")


def write_text_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def resolve_checkpoint(path: str | Path) -> Path:
    """A run directory -> its ``checkpoints/last.ckpt``; a .ckpt file -> itself. One-line error otherwise."""
    p = Path(path).expanduser()
    if p.is_dir():
        p = p / "checkpoints" / "last.ckpt"
    if not p.is_file():
        raise GanZooError(f"no checkpoint at {p}: pass a run directory holding checkpoints/last.ckpt or a .ckpt file")
    return p


@dataclass
class RunHandle:
    cfg: DictConfig
    G_ema: torch.nn.Module
    run_dir: Path
    ckpt_path: Path
    kimg: float


def load_checkpoint(path: Path) -> dict:
    try:
        return torch.load(path, map_location="cpu", weights_only=False)
    except Exception as exc:  # a truncated or foreign file
        raise GanZooError(f"{path} is not a readable gan_zoo checkpoint ({type(exc).__name__}: {exc})") from exc


def load_run(path: str | Path, device: str | torch.device = "cpu") -> RunHandle:
    """Load a run's EMA generator (eval mode) and config from a run directory or checkpoint file."""
    ckpt_path = resolve_checkpoint(path)
    ckpt = load_checkpoint(ckpt_path)
    if "gan_zoo_config" not in ckpt:
        raise GanZooError(f"{ckpt_path} has no gan_zoo config: it was not written by gan-zoo-train")
    cfg = OmegaConf.create(ckpt["gan_zoo_config"])
    from gan_zoo.hooks import generator_transforms

    G = generator_transforms(cfg).transform_generator(instantiate(cfg.model.generator))  # e.g. spectral norm
    prefix = "G_ema."
    state = {k[len(prefix):]: v for k, v in ckpt["state_dict"].items() if k.startswith(prefix)}
    G.load_state_dict(state)
    G.eval().requires_grad_(False).to(device)
    kimg = float(ckpt.get("gan_zoo", {}).get("kimg", 0.0))
    return RunHandle(cfg, G, ckpt_path.parent.parent, ckpt_path, kimg)
