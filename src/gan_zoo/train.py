"""gan-zoo-train: compose a GAN from config groups, validate it, and train it (Hydra app, thin).

    gan-zoo-train dataset=toy2d_ring model=mlp loss=rpgan regularizer=r1_r2 total_kimg=20
    gan-zoo-train resume=runs/demo/2026-11-22_10-00-00 total_kimg=300
    gan-zoo-train -m experiment=roadmap/cpu_mini/B,roadmap/cpu_mini/E_inverted seed=0,1,2
"""

from __future__ import annotations

import json
import sys
import time
import uuid
import warnings
from pathlib import Path

import hydra
import pytorch_lightning as pl
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from omegaconf import DictConfig, OmegaConf, open_dict

from gan_zoo.checkpoint import resolve_checkpoint, write_text_atomic
from gan_zoo.config import build, build_all, check_composition, check_model_fits_data, validate
from gan_zoo.data.datamodule import GanDataModule
from gan_zoo.errors import ConfigError, DivergenceError, GanZooError
from gan_zoo.hparams_search import objective
from gan_zoo.loggers import build_loggers, dashboard_defaults
from gan_zoo.module import AdversarialModule
from gan_zoo.paths import CONF_DIR
from gan_zoo.schedules import Schedules


def _run_dir_of(resume: str | None, default: str) -> str:
    if not resume or resume == "None":
        return default
    p = Path(resume).expanduser()
    return str(p.parent.parent if p.suffix == ".ckpt" else p)


OmegaConf.register_new_resolver("gan_zoo_run_dir", _run_dir_of, replace=True)
OmegaConf.register_new_resolver(
    "gan_zoo_hydra_subdir",
    lambda resume: ".hydra" if not resume or resume == "None" else f".hydra-resume-{time.strftime('%Y%m%d-%H%M%S')}",
    replace=True,
)


def _is_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _read_status(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def _resume_config(cfg: DictConfig, run_dir: Path) -> DictConfig:
    """The run's saved config, with the key=value overrides of this command (e.g. total_kimg=300) on top."""
    ckpt = resolve_checkpoint(cfg.resume)
    saved_path = run_dir / "config.yaml"
    if not saved_path.is_file():
        raise GanZooError(f"cannot resume: {saved_path} is missing (was {run_dir} written by gan-zoo-train?)")
    saved = OmegaConf.load(saved_path)
    overrides = HydraConfig.get().overrides.task if HydraConfig.initialized() else []
    dotlist = [o.lstrip("+") for o in overrides if not o.startswith(("resume=", "hydra"))]
    for item in dotlist:
        key = item.split("=", 1)[0]
        if OmegaConf.select(saved, key) is not None and isinstance(OmegaConf.select(saved, key), DictConfig):
            raise ConfigError(f"cannot change the group {key} when resuming; start a new run instead")
    merged = OmegaConf.merge(saved, OmegaConf.from_dotlist(dotlist))
    with open_dict(merged):
        merged.resume = str(ckpt)
    return merged


# Lightning notes that do not apply here: G_ema is in eval mode on purpose; the CSV logger shares the run dir.
for _pattern in (".*module\\(s\\) in eval mode.*", ".*exists and is not empty.*", ".*LeafSpec.*"):
    warnings.filterwarnings("ignore", message=_pattern)


def train(cfg: DictConfig) -> dict:
    run_dir = Path(HydraConfig.get().runtime.output_dir) if HydraConfig.initialized() else Path(cfg.run_dir)
    ckpt_path = None
    if cfg.resume:
        cfg = _resume_config(cfg, run_dir)
        ckpt_path = cfg.resume
    elif _is_multirun() and (run_dir / "status.json").is_file():
        status = _read_status(run_dir)
        if status.get("state") in ("finished", "diverged"):
            print(f"{run_dir}: already {status['state']} at {status.get('kimg')} kimg, skipping")
            return status
        if (run_dir / "checkpoints" / "last.ckpt").is_file():
            ckpt_path = str(run_dir / "checkpoints" / "last.ckpt")
            print(f"{run_dir}: resuming the unfinished run from {ckpt_path}")
    else:
        cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
    if "hydra" in cfg:  # present when composed with return_hydra_config (tests)
        cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    validate(cfg)
    if "wandb" in cfg.logger and not cfg.logger.wandb.get("id"):
        cfg.logger.wandb.id = uuid.uuid4().hex[:12]  # fixed now, so resume continues the same wandb run
    dashboard_defaults(cfg)  # wandb group (the sweep), job type (table row), tags; saved in config.yaml
    run_dir.mkdir(parents=True, exist_ok=True)
    if not cfg.resume and ckpt_path is None:
        write_text_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(cfg))

    pl.seed_everything(int(cfg.seed), workers=True, verbose=False)
    dataset = build(cfg.dataset, "dataset")
    print(dataset.info.summary())
    check_model_fits_data(cfg, dataset)
    G = build(cfg.model.generator, "model.generator")
    D = build(cfg.model.discriminator, "model.discriminator")
    check_composition(cfg, dataset, G, D)
    devices = cfg.trainer.get("devices", 1)
    world = devices if isinstance(devices, int) and devices > 0 else 1
    module = AdversarialModule(
        generator=G, discriminator=D,
        loss=build(cfg.loss, "loss"),
        regularizers=build_all(cfg.regularizer, "regularizer"),
        tricks=build_all(cfg.get("trick") or {}, "trick"),
        augment=build(cfg.augment, "augment"),
        optimizer=build(cfg.optimizer.optim, "optimizer.optim"),
        schedules=Schedules(**OmegaConf.to_container(cfg.schedule)),
        batch_size=cfg.batch_size, total_kimg=cfg.total_kimg, n_dis=cfg.n_dis, seed=cfg.seed,
        g_lr_mult=cfg.optimizer.g_lr_mult, d_lr_mult=cfg.optimizer.d_lr_mult,
        channels_last=cfg.channels_last, compile=cfg.compile, run_dir=run_dir, cfg=cfg,
        ema_decay=cfg.get("ema", {}).get("decay"), ema_start_kimg=cfg.get("ema", {}).get("start_kimg", 0.0),
        accumulate=cfg.get("accumulate", 1),
    )
    datamodule = GanDataModule(dataset, cfg.batch_size // world, cfg.n_dis, cfg.data.num_workers, cfg.seed,
                               cfg.data.pin_memory)
    progress = cfg.trainer.get("enable_progress_bar", True)
    callbacks = list(build_all(cfg.callbacks, "callbacks", keep=lambda n: progress or n != "progress").values())
    if cfg.get("metrics") and cfg.metrics.get("_target_"):
        callbacks.append(build(cfg.metrics, "metrics"))
    loggers = build_loggers(cfg, callbacks)
    trainer = build(cfg.trainer, "trainer", callbacks=callbacks, logger=loggers)
    g_params, d_params = module.num_params()
    print(f"G {g_params / 1e6:.3f}M params, D {d_params / 1e6:.3f}M params; run directory {run_dir}")
    try:
        trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    except DivergenceError as exc:
        checkpoint = next((c for c in callbacks if hasattr(c, "write_status")), None)
        if checkpoint is not None:
            checkpoint.write_status(trainer, module, "diverged", str(exc))
        if cfg.on_divergence == "record":
            print(f"diverged: {exc}", file=sys.stderr)
            return {"state": "diverged", "kimg": module.kimg}
        raise
    finally:
        _finish_wandb(loggers)
    print(f"done: {module.kimg:.1f} kimg; samples in {run_dir / 'samples'}, metrics in {run_dir / 'metrics.csv'}, "
          f"checkpoint {run_dir / 'checkpoints' / 'last.ckpt'}")
    return {"state": "finished", "kimg": module.kimg, **module.last_values}


def _finish_wandb(loggers) -> None:
    """Close this run's wandb run: Lightning leaves it open, and the next job of a sweep (same process) would
    otherwise log into it."""
    if any(type(logger).__name__ == "WandbLogger" for logger in loggers):
        import wandb

        if wandb.run is not None:
            wandb.finish()


def run(cfg: DictConfig) -> dict | None:
    """The Hydra task: user mistakes become one line on stderr (exit 2, or recorded and skipped in a sweep)."""
    try:
        return train(cfg)
    except GanZooError as exc:
        print(f"error: {exc}", file=sys.stderr)
        if _is_multirun():  # record it for the report; a re-launched sweep tries failed runs again
            run_dir = Path(HydraConfig.get().runtime.output_dir)
            if run_dir.is_dir() and _read_status(run_dir).get("state") not in ("diverged", "finished"):
                write_text_atomic(run_dir / "status.json", json.dumps({"state": "failed", "message": str(exc)}))
            return {"state": "failed", "message": str(exc)}
        raise SystemExit(3 if isinstance(exc, DivergenceError) else 2) from None


@hydra.main(version_base="1.3", config_path=str(CONF_DIR), config_name="train")
def _hydra_main(cfg: DictConfig) -> dict | float | None:
    return objective(cfg, run(cfg))  # a search config (hparams_search=...) returns the trial's value


def main() -> None:
    _hydra_main()


if __name__ == "__main__":
    main()
