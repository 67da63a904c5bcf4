"""Shared helpers of the benchmarks: building gan_zoo's module from the configs, the official R3GAN code from a
local copy (``R3GAN_SRC``), machine load, and per-phase peak RSS.

Every speed figure the benchmarks write is a ratio of two things timed alternately in one process (A, B, A, B,
... after a warm-up of each), so that load from other processes on a shared machine falls on both alike; the
load average is recorded before and after.
"""

from __future__ import annotations

import ctypes
import json
import os
import subprocess
import sys
import time
import types
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from hydra import compose, initialize_config_dir
from hydra.utils import instantiate
from omegaconf import OmegaConf

from gan_zoo.module import AdversarialModule
from gan_zoo.paths import CONF_DIR
from gan_zoo.schedules import Schedules

# ---- machine ---------------------------------------------------------------------------------------------


def load() -> dict:
    """The 1/5/15-minute load average and ``uptime``'s line."""
    try:
        line = subprocess.run(["uptime"], capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        line = ""
    return {"load_average": [round(v, 2) for v in os.getloadavg()], "uptime": line, "cores": os.cpu_count()}


def _status_kib(key: str) -> int | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _trim() -> None:
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)  # give freed heap back so the next phase starts clean
    except (OSError, AttributeError):
        pass


def reset_peak_rss() -> int | None:
    """Return freed memory to the OS, reset the process's peak RSS (Linux ``clear_refs`` 5) and return the
    current RSS in KiB (None where unsupported)."""
    _trim()
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return None
    return _status_kib("VmRSS")


def peak_rss() -> int | None:
    """Peak RSS (KiB) since the last :func:`reset_peak_rss`."""
    return _status_kib("VmHWM")


# ---- timing ----------------------------------------------------------------------------------------------


def alternate(fns: dict[str, Callable[[], None]], reps: int, warmup: int = 1) -> dict[str, dict]:
    """Time each callable ``reps`` times, alternating A, B, C, A, B, C, ... after ``warmup`` calls of each;
    returns per name the wall times (s), min, median, the process CPU times and the peak RSS increment of one
    call (MiB)."""
    for _ in range(warmup):
        for fn in fns.values():
            fn()
    out = {name: {"times_s": [], "cpu_s": [], "peak_rss_mib": None, "rss_before_mib": None} for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            base = reset_peak_rss()
            t, cpu = time.perf_counter(), time.process_time()
            fn()
            out[name]["times_s"].append(round(time.perf_counter() - t, 4))
            out[name]["cpu_s"].append(round(time.process_time() - cpu, 4))
            peak = peak_rss()
            if base is not None and peak is not None:
                inc = (peak - base) / 1024
                prev = out[name]["peak_rss_mib"]
                out[name]["peak_rss_mib"] = round(inc if prev is None else max(prev, inc), 1)
                out[name]["rss_before_mib"] = round(base / 1024, 1)
    for r in out.values():
        r["min_s"] = min(r["times_s"])
        r["median_s"] = float(np.median(r["times_s"]))
        r["min_cpu_s"] = min(r["cpu_s"])  # process CPU time: less sensitive to other jobs on a shared machine
    return out


def write_record(record: dict, out: str | Path, write: bool = True) -> dict:
    """Print the record as JSON and (when ``write``) save it to ``out``."""
    if write:
        Path(out).parent.mkdir(parents=True, exist_ok=True)
        Path(out).write_text(json.dumps(record, indent=1))
    print(json.dumps(record, indent=1))
    return record


def ratio(results: dict, slow: str, fast: str, key: str = "min_s") -> float:
    return round(results[slow][key] / results[fast][key], 3)


def with_mode(value: str, fn):
    """``fn`` run with ``GAN_ZOO_GROUPED_CONV=value`` (the switch is read at every call)."""

    def run():
        old = os.environ.get("GAN_ZOO_GROUPED_CONV")
        os.environ["GAN_ZOO_GROUPED_CONV"] = value
        try:
            return fn()
        finally:
            if old is None:
                os.environ.pop("GAN_ZOO_GROUPED_CONV", None)
            else:
                os.environ["GAN_ZOO_GROUPED_CONV"] = old

    return run


# ---- gan_zoo ---------------------------------------------------------------------------------------------

PRESETS = {
    # name: (model config, resolution, c_dim override or None)
    "cifar10": ("r3gan/cifar10", 32),
    "tiny8": ("r3gan/tiny", 8),
    "tiny16": ("r3gan/tiny", 16),
}


def compose_cfg(model: str, resolution: int, regularizer: str = "r1_r2", extra: list[str] | None = None):
    overrides = [f"model={model}", "dataset=digits", f"dataset.resolution={resolution}", "loss=rpgan",
                 f"regularizer={regularizer}", "augment=none", "metrics=none", "schedule=constant",
                 *(extra or [])]
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        return compose("train", overrides=overrides)


def build_module(cfg, batch: int, G=None, D=None, channels_last: bool = False) -> AdversarialModule:
    """gan_zoo's AdversarialModule for ``cfg`` (new nets unless ``G``/``D`` are given)."""
    G = G if G is not None else instantiate(cfg.model.generator)
    D = D if D is not None else instantiate(cfg.model.discriminator)
    regs = {k: instantiate(v) for k, v in (cfg.regularizer or {}).items()}
    return AdversarialModule(
        G, D, instantiate(cfg.loss), regs, instantiate(cfg.augment), instantiate(cfg.optimizer.optim),
        Schedules(**OmegaConf.to_container(cfg.schedule)), batch_size=batch, total_kimg=1.0,
        channels_last=channels_last, run_dir="/tmp/gan_zoo_bench")


def gan_zoo_steps(module: AdversarialModule, real: torch.Tensor, c: torch.Tensor | None, gamma: float):
    """``d()`` and ``g()``: gan_zoo's own D and G objectives (``AdversarialModule._d_loss`` / ``_g_loss``, the
    code the training step runs) and their backward pass, no optimizer step (as the official
    ``Accumulate*Gradients``)."""
    state = {"it": 0}

    def d() -> None:
        module._z_gen = module._rng(shared=True)
        total, _ = module._d_loss(real, c, torch.Generator().manual_seed(state["it"]), gamma, state["it"])
        total.backward()
        module.D.zero_grad(set_to_none=True)
        state["it"] += 1

    def g() -> None:
        module._z_gen = module._rng(shared=True)
        total, _ = module._g_loss(real, c, torch.Generator().manual_seed(state["it"]))
        total.backward()
        module.G.zero_grad(set_to_none=True)
        module.D.requires_grad_(True)
        state["it"] += 1

    return d, g


# ---- the official code -------------------------------------------------------------------------------------


def _parse_version_shim() -> None:
    """torch_utils imports ``pkg_resources.parse_version``, gone with setuptools >= 81: a stand-in module
    backed by ``packaging.version`` (installed in the process only; the official files are not touched)."""
    try:
        import pkg_resources  # noqa: F401
    except ImportError:
        from packaging.version import parse

        sys.modules["pkg_resources"] = types.SimpleNamespace(parse_version=parse)


def import_official(src: str | Path):
    """``(R3GAN.Networks, R3GAN.Trainer.AdversarialTraining)`` from an extracted brownvc/R3GAN at ``src``."""
    src = Path(src)
    if not (src / "R3GAN" / "Networks.py").is_file():
        raise SystemExit(f"R3GAN_SRC={src} has no R3GAN/Networks.py: point it at an extracted brownvc/R3GAN")
    _parse_version_shim()
    sys.path.insert(0, str(src))
    import R3GAN.Networks as networks
    from R3GAN.Trainer import AdversarialTraining

    return networks, AdversarialTraining


def official_nets(networks, model_cfg, device: str = "cpu"):
    """The official G and D for a gan_zoo R3GAN model config (same widths, groups, blocks, embedding)."""
    m = OmegaConf.to_container(model_cfg, resolve=True)
    n = int(np.log2(m["resolution"])) - 1
    widths = m["channels"] if isinstance(m["channels"], list) else [m["channels"]] * n
    blocks = m["blocks_per_stage"] if isinstance(m["blocks_per_stage"], list) else [m["blocks_per_stage"]] * n
    exp = m["expansion"]
    if exp != int(exp):
        raise SystemExit(f"the official ResidualBlock needs an integer expansion (got {exp})")
    card = [int(w * exp) // m["channels_per_group"] for w in widths]
    c_dim = m["c_dim"] or None
    G = networks.Generator(m["z_dim"], widths, card, blocks, int(exp), ConditionDimension=c_dim,
                           ConditionEmbeddingDimension=m["z_dim"] if c_dim else 0)
    D = networks.Discriminator(widths[::-1], card[::-1], blocks[::-1], int(exp), ConditionDimension=c_dim,
                               ConditionEmbeddingDimension=widths[0] if c_dim else 0)
    return G.to(device).train().requires_grad_(False), D.to(device).train().requires_grad_(False)


def official_steps(G, D, trainer_cls, z_dim: int, real: torch.Tensor, c: torch.Tensor | None, gamma: float):
    """``d()`` and ``g()``: the official AccumulateDiscriminatorGradients / AccumulateGeneratorGradients with
    the official training loop's ``requires_grad_`` toggles (training/training_loop.py)."""
    trainer = trainer_cls(G, D)
    state = {"it": 0}

    def noise() -> torch.Tensor:
        state["it"] += 1
        return torch.randn(real.shape[0], z_dim, generator=torch.Generator().manual_seed(state["it"]))

    def d() -> None:
        D.requires_grad_(True)
        trainer.AccumulateDiscriminatorGradients(noise(), real, c, gamma)
        D.requires_grad_(False)
        D.zero_grad(set_to_none=True)

    def g() -> None:
        G.requires_grad_(True)
        trainer.AccumulateGeneratorGradients(noise(), real, c)
        G.requires_grad_(False)
        G.zero_grad(set_to_none=True)

    return d, g


def official_d_no_penalty(G, D, z_dim: int, real: torch.Tensor, c: torch.Tensor | None):
    """The official networks' D step without R1/R2: the same RpGAN loss as ``AccumulateDiscriminatorGradients``
    (softplus(-(D(real) - D(fake))), fakes from G under no grad) and its backward, written here because the
    official code always computes both penalties (gamma only scales them). This is the plain D step that bounds
    what any implementation of the penalised step can reach: R1 + R2 by double backprop is at least ~2x it."""
    state = {"it": 0}

    def d() -> None:
        state["it"] += 1
        noise = torch.randn(real.shape[0], z_dim, generator=torch.Generator().manual_seed(state["it"]))
        D.requires_grad_(True)
        with torch.no_grad():
            fake = G(noise, c)
        logits = D(real.detach(), c) - D(fake, c)
        torch.nn.functional.softplus(-logits).mean().backward()
        D.requires_grad_(False)
        D.zero_grad(set_to_none=True)

    return d


def fixed_batch(batch: int, resolution: int, c_dim: int, seed: int = 0):
    gen = torch.Generator().manual_seed(seed)
    real = torch.rand(batch, 3, resolution, resolution, generator=gen) * 2 - 1
    c = None
    if c_dim:
        c = torch.nn.functional.one_hot(torch.randint(0, c_dim, (batch,), generator=gen), c_dim).float()
    return real, c
