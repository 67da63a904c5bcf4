"""Validation of a composed run config: one line naming the key and the fix, before anything trains.

Two passes: :func:`validate` checks values that need nothing built (batch, lengths, optimizer betas, logger
modes); :func:`check_composition` checks that the built parts fit together (a conditional model needs a
labelled dataset with the same number of classes; a model's resolution must be the dataset's; an image model
cannot train on 2-D points). Schedules, regularizers and augmentations check their own values when built.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

from hydra.errors import InstantiationException
from hydra.utils import instantiate
from omegaconf import DictConfig, OmegaConf

from gan_zoo.compat import check_objectives
from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.paths import CONF_DIR

# top-level keys read although no config group sets them (gan-zoo-report reads table.*)
KNOWN_TOP_LEVEL = ("table",)
ZERO_ALLOWED = ("num_workers", "num_sanity_val_steps", "num_nodes")  # num_* keys where 0 means "none"


def _number(cfg: DictConfig, key: str) -> float:
    value = cfg[key]
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ConfigError(f"{key} must be a number (got {value!r})")
    return value


def check_unknown_keys(cfg: DictConfig, overrides: list[str]) -> None:
    """A ``+key=value`` that adds a top-level key nothing reads (``+total_kimgg=1``) fails with the nearest known
    key; config groups (``+sweep=...``) and ``table`` (read by gan-zoo-report) are known."""
    added = {o.lstrip("+").split("=", 1)[0].split(".")[0] for o in overrides if o.startswith("+")}
    known = {*KNOWN_TOP_LEVEL, *(p.name for p in CONF_DIR.iterdir() if p.is_dir())}
    known |= {str(k) for k in OmegaConf.load(CONF_DIR / "train.yaml") if k != "defaults"}
    known |= {str(k) for k in cfg if k not in added}  # e.g. what an experiment adds
    for override in overrides:
        if not override.startswith("+"):
            continue
        key = override.lstrip("+").split("=", 1)[0]
        top = key.split(".")[0]
        if top not in known:
            near = difflib.get_close_matches(top, sorted(known), n=1, cutoff=0.6)
            hint = f"did you mean {near[0]}{key[len(top):]}?" if near else "see the keys with `gan-zoo-train --cfg job`"
            raise ConfigError(f"unknown key {key} (from {override}): {hint}")


def _walk(node: DictConfig, prefix: str = ""):
    for key in node:
        if not prefix and key == "hydra":  # Hydra's own node (composed with return_hydra_config) is not ours
            continue
        value = node._get_node(key)
        full = f"{prefix}{key}"
        if value is None or value._is_missing():  # "???" is checked where it is used, not read here
            continue
        if isinstance(value, DictConfig):
            yield from _walk(value, full + ".")
        else:
            yield full, str(key), node[key]


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def check_values(cfg: DictConfig) -> None:
    """Counts, seeds and lengths anywhere in the config, by the name of their key: ``num_*`` (images, points,
    samples) are integers >= 1, ``seed`` an integer >= 0, ``*_kimg`` a number >= 0 (null: unset)."""
    for full, key, value in _walk(cfg):
        if value is None or key.startswith("_"):
            continue
        if key.startswith("num_") and key not in ZERO_ALLOWED:
            if not _is_int(value) or value < 1:
                raise ConfigError(f"{full} must be a positive integer (got {value!r})")
        elif key == "seed":
            if not _is_int(value) or value < 0:
                raise ConfigError(f"{full} must be an integer >= 0 (got {value!r})")
        elif key.endswith("_kimg") and key != "total_kimg":  # total_kimg: validate() says > 0
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise ConfigError(f"{full} must be a number >= 0 (got {value!r}): thousands of real images")
    accelerator = str(cfg.trainer.get("accelerator", "cpu"))
    if accelerator in ("gpu", "cuda"):
        import torch

        if not torch.cuda.is_available():
            raise ConfigError(f"trainer.accelerator={accelerator} but no CUDA GPU is visible here: use trainer=cpu "
                              "(or run on a GPU node)")


def validate(cfg: DictConfig) -> None:
    check_values(cfg)
    batch = _number(cfg, "batch_size")
    if batch <= 0 or int(batch) != batch:
        raise ConfigError(f"batch_size must be a positive integer (got {batch})")
    if _number(cfg, "total_kimg") <= 0:
        raise ConfigError(f"total_kimg must be > 0 (got {cfg.total_kimg}): the run length in thousands of images")
    if int(_number(cfg, "n_dis")) < 1:
        raise ConfigError(f"n_dis must be >= 1 (got {cfg.n_dis}): D steps per G step")
    devices = cfg.trainer.get("devices", 1)
    if isinstance(devices, int) and devices > 0 and batch % devices:
        raise ConfigError(
            f"batch_size={int(batch)} is not divisible by trainer.devices={devices}: each device takes an equal share"
        )
    accumulate = cfg.get("accumulate", 1)
    if isinstance(accumulate, bool) or not isinstance(accumulate, int) or accumulate < 1:
        raise ConfigError(f"accumulate must be an int >= 1 (got {accumulate!r}): micro-batches per D/G step")
    share = int(batch) // (devices if isinstance(devices, int) and devices > 0 else 1)
    if share % accumulate:
        raise ConfigError(f"batch_size={int(batch)} gives {share} per device, not divisible by "
                          f"accumulate={accumulate}; pick a batch that is a multiple of devices x accumulate")
    decay = (cfg.get("ema") or {}).get("decay")
    if decay is not None and not (isinstance(decay, float) and 0.0 <= decay < 1.0):
        raise ConfigError(f"ema.decay must be a float in [0, 1) or null (got {decay!r}); BigGAN uses 0.9999")
    if cfg.on_divergence not in ("raise", "record"):
        raise ConfigError(f"on_divergence must be 'raise' or 'record' (got {cfg.on_divergence!r})")
    betas = cfg.optimizer.optim.get("betas")
    if betas is not None:
        if len(betas) != 2 or not all(isinstance(b, float) for b in betas):
            raise ConfigError(
                f"optimizer.optim.betas must be two floats like [0.0, 0.99] (got {list(betas)}); "
                "torch rejects mixed int/float"
            )
        if not all(0.0 <= b < 1.0 for b in betas):
            raise ConfigError(f"optimizer.optim.betas must lie in [0, 1) (got {list(betas)})")
    for key in ("g_lr_mult", "d_lr_mult"):
        if _number(cfg.optimizer, key) <= 0:
            raise ConfigError(f"optimizer.{key} must be > 0 (got {cfg.optimizer[key]})")
    wandb = cfg.logger.get("wandb")
    if wandb is not None and wandb.get("mode") not in ("online", "offline", "disabled"):
        raise ConfigError(f"logger.wandb.mode must be online, offline or disabled (got {wandb.get('mode')!r})")


def check_model_fits_data(cfg: DictConfig, dataset) -> None:
    """Before building the networks: image model vs 2-D points, and the resolution the config asks for."""
    data_res = getattr(dataset, "resolution", None)
    model_res = cfg.model.get("resolution")
    if (data_res is None) != (model_res is None):
        kind = "2-D points" if data_res is None else f"{data_res}px images"
        raise ConfigError(
            f"model={cfg.model.get('name')} does not fit dataset of {kind}: "
            "use model=mlp for 2-D data, an image model otherwise"
        )
    if data_res is not None and model_res != data_res:
        raise ConfigError(
            f"model.resolution={model_res} but dataset.resolution={data_res}: pick a model preset for {data_res}px "
            f"or set model.resolution={data_res}"
        )


def check_composition(cfg: DictConfig, dataset, G, D) -> None:
    """After building: what the networks actually are (resolution, channels, classes) against the data."""
    data_res, model_res = getattr(dataset, "resolution", None), getattr(G, "resolution", None)
    if model_res != data_res:
        raise ConfigError(f"the generator makes {model_res}px output but dataset.resolution={data_res}: "
                          "set model.resolution to the dataset's")
    channels = getattr(dataset, "num_channels", None)
    if channels is not None and channels != getattr(G, "img_channels", channels):
        raise ConfigError(
            f"the dataset has {channels}-channel images but the model makes {G.img_channels}: set dataset.channels=3"
        )
    c_dim, classes = int(getattr(G, "c_dim", 0)), int(getattr(dataset, "num_classes", 0))
    if c_dim and not classes:
        raise ConfigError(
            f"model.c_dim={c_dim} (conditional) but the dataset is unlabelled: "
            "use an unconditional preset (model.c_dim=0)"
            " or labels: true on a labelled dataset"
        )
    if c_dim and c_dim != classes:
        raise ConfigError(f"model.c_dim={c_dim} but the dataset has {classes} classes: set model.c_dim={classes}")
    if getattr(D, "c_dim", c_dim) != c_dim:
        raise ConfigError(f"model.generator c_dim={c_dim} but model.discriminator c_dim={D.c_dim}: they must agree")
    check_objectives(cfg, D)  # losses x penalties x constraints x D (gan_zoo.compat)


def build(node: DictConfig, key: str, **kwargs: Any) -> Any:
    """``hydra.utils.instantiate`` with its multi-line errors turned into one line naming the key."""
    try:
        return instantiate(node, **kwargs)
    except InstantiationException as exc:
        cause = exc.__cause__ or exc
        if isinstance(cause, GanZooError):
            raise type(cause)(str(cause) if str(cause).startswith(key) else f"{key}: {cause}") from None
        text = " ".join(str(cause).split())
        raise ConfigError(f"cannot build {key}: {text}") from None
    except GanZooError:
        raise


def build_all(nodes: DictConfig, key: str, keep: Callable[[str], bool] = lambda name: True) -> dict[str, Any]:
    return {name: build(node, f"{key}.{name}") for name, node in nodes.items() if keep(name)}
