"""Checkpoints: atomic writes, and loading a run's G_ema without its dataset.

A checkpoint is written to a temporary file in the same directory and moved over the target with
``os.replace`` (atomic on POSIX), so a crash mid-write never leaves a half-written ``last.ckpt``.
Every checkpoint carries the resolved run config (``checkpoint["gan_zoo_config"]``), so it can be sampled
and evaluated with nothing else.
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import torch
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_zoo.errors import GanZooError


def _tmp_beside(path: Path) -> Path:
    """The temp file of an atomic write: beside its target (same filesystem, so ``os.replace`` is atomic), named
    by the process so two writers never share one."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    """Make a rename durable (POSIX: the directory entry lives in the directory)."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_failure(path: Path, exc: OSError) -> GanZooError:
    """A failed write as one line: the file, the reason, and what to do about it."""
    reason = exc.strerror or str(exc) or type(exc).__name__
    if exc.errno == errno.ENOSPC or exc.errno == errno.EDQUOT:
        fix = f"free space on the disk of {path.parent} or point paths.runs_dir at a larger one"
    elif exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = f"make {path.parent} writable or point paths.runs_dir (GAN_ZOO_RUNS) at a writable directory"
    else:
        fix = "check the disk and the directory"
    return GanZooError(f"cannot write {path}: {reason}; {fix}")


def _replace_from_tmp(path: Path, write) -> None:
    """``write(tmp)``, fsync, ``os.replace(tmp, path)``; on any failure the temp file is removed and an
    ``OSError`` becomes one-line :class:`GanZooError`."""
    tmp = _tmp_beside(path)
    try:
        write(tmp)
        _fsync_file(tmp)
        os.replace(tmp, path)
    except BaseException as exc:  # also KeyboardInterrupt: never leave a partial temp file
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise write_failure(path, exc) from exc
        raise
    _fsync_dir(path.parent)


def atomic_save(trainer, path: str | Path) -> None:
    """``trainer.save_checkpoint`` to a temp file beside ``path``, fsync, then rename over ``path`` (global rank 0
    writes and renames; Lightning's ``save_checkpoint`` writes on rank 0 only)."""
    path = Path(path)
    if trainer.is_global_zero:
        # the full state: resume needs optimizers and loops
        _replace_from_tmp(path, lambda tmp: trainer.save_checkpoint(tmp, weights_only=False))
    else:
        trainer.save_checkpoint(_tmp_beside(path), weights_only=False)  # collective on some strategies; no file
    trainer.strategy.barrier("atomic_save")


def write_text_atomic(path: str | Path, text: str) -> None:
    path = Path(path)
    _replace_from_tmp(path, lambda tmp: tmp.write_text(text))


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
