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
from omegaconf.errors import OmegaConfBaseException
from pytorch_lightning.utilities.exceptions import SIGTERMException

from gan_zoo import preflight, slurm
from gan_zoo.callbacks.checkpoint import SIGNALS, Interrupted, KimgCheckpoint
from gan_zoo.checkpoint import load_checkpoint, resolve_checkpoint, write_text_atomic
from gan_zoo.config import build, build_all, check_composition, check_model_fits_data, check_unknown_keys, validate
from gan_zoo.data.datamodule import GanDataModule
from gan_zoo.errors import ConfigError, DivergenceError, GanZooError
from gan_zoo.hparams_search import objective
from gan_zoo.loggers import build_loggers, dashboard_defaults
from gan_zoo.module import AdversarialModule
from gan_zoo.paths import CONF_DIR
from gan_zoo.resume import relocate, resume_command, saved_run_dir, truncate_history
from gan_zoo.schedules import Schedules

_CLAIMED: dict[str, str] = {}


def _claim_unique(default: str) -> str:
    """``default``, or ``default_1``, ``default_2``, ... when another run already holds it (runs started in the
    same second, e.g. the jobs of a SLURM array): claimed by an atomic ``mkdir``, once per process."""
    if default not in _CLAIMED:
        base = Path(default)
        base.parent.mkdir(parents=True, exist_ok=True)
        for n in range(10_000):
            candidate = base if n == 0 else base.with_name(f"{base.name}_{n}")
            try:
                candidate.mkdir()
            except FileExistsError:
                continue
            _CLAIMED[default] = str(candidate)
            break
        else:
            raise GanZooError(f"{base.parent}: 10000 runs named {base.name}; pick another name=")
    return _CLAIMED[default]


def _run_dir_of(resume: str | None, default: str) -> str:
    """hydra.run.dir: a fresh run's unique directory (a requeued SLURM job's own earlier one), or the directory of
    the run ``resume`` names. A resume path that is not a run is an error here, before Hydra creates anything."""
    if not resume or resume == "None":
        earlier = slurm.earlier_run_dir(default)
        if earlier is not None:
            return earlier
        claimed = _claim_unique(default)
        slurm.remember_run_dir(default, claimed)
        return claimed
    ckpt = resolve_checkpoint(resume)
    run_dir = ckpt.parent.parent
    if not (run_dir / "config.yaml").is_file():
        raise GanZooError(f"resume={resume}: {run_dir} holds no config.yaml, so it is not a gan-zoo-train run "
                          "directory; pass runs/<name>/<time> or its checkpoints/last.ckpt")
    return str(run_dir)


OmegaConf.register_new_resolver("gan_zoo_run_dir", _run_dir_of, replace=True)
OmegaConf.register_new_resolver(
    "gan_zoo_hydra_subdir",
    lambda resume: ".hydra" if not resume or resume == "None" else f".hydra-resume-{time.strftime('%Y%m%d-%H%M%S')}",
    replace=True,
)


def _task_overrides() -> list[str]:
    """This command's overrides as typed (unresolved: an override may hold ``${...}``)."""
    if not HydraConfig.initialized():
        return []
    return [str(o) for o in OmegaConf.to_container(HydraConfig.get().overrides.task, resolve=False)]


def _is_multirun() -> bool:
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN


def _read_status(run_dir: Path) -> dict:
    try:
        return json.loads((run_dir / "status.json").read_text())
    except (OSError, ValueError):
        return {}


def _resume_config(cfg: DictConfig, run_dir: Path) -> DictConfig:
    """The run's saved config moved to where the run now lives (a copied or moved directory resumes into
    itself), with the key=value overrides of this command (e.g. total_kimg=300) on top."""
    ckpt = resolve_checkpoint(cfg.resume)
    saved_path = run_dir / "config.yaml"
    if not saved_path.is_file():
        raise GanZooError(f"cannot resume: {saved_path} is missing (was {run_dir} written by gan-zoo-train?)")
    saved = load_yaml_config(saved_path)
    saved = relocate(saved, saved_run_dir(saved), run_dir.resolve())
    overrides = _task_overrides()
    dotlist = [o.lstrip("+") for o in overrides if not o.startswith(("resume=", "hydra"))]
    check_unknown_keys(saved, [o for o in overrides if not o.startswith(("resume=", "hydra"))])
    for item in dotlist:
        key = item.split("=", 1)[0]
        if OmegaConf.select(saved, key) is not None and isinstance(OmegaConf.select(saved, key), DictConfig):
            raise ConfigError(f"cannot change the group {key} when resuming; start a new run instead")
    try:
        merged = OmegaConf.merge(saved, OmegaConf.from_dotlist(dotlist))
    except OmegaConfBaseException as exc:
        raise ConfigError(f"cannot apply {' '.join(dotlist)} to {saved_path}: {' '.join(str(exc).split())}") from None
    with open_dict(merged):
        merged.resume = str(ckpt)
    return merged


def _saved_or_empty(run_dir: Path) -> DictConfig:
    try:
        return OmegaConf.load(run_dir / "config.yaml")
    except Exception:  # none yet, or unreadable: nothing to carry over
        return OmegaConf.create({})


def load_yaml_config(path: Path) -> DictConfig:
    """A saved config.yaml, or one line naming the file when it is not a readable YAML mapping."""
    try:
        cfg = OmegaConf.load(path)
    except Exception as exc:  # yaml.YAMLError, OSError, omegaconf errors
        first = " ".join(str(exc).split())[:200]
        raise GanZooError(f"{path} is unreadable ({type(exc).__name__}: {first}); restore it from the run's "
                          ".hydra/config.yaml or start a new run") from None
    if not isinstance(cfg, DictConfig):
        raise GanZooError(f"{path} is not a YAML mapping; restore it from the run's .hydra/config.yaml")
    return cfg


def _check_resumable(ckpt: dict, path: Path, module) -> None:
    """A checkpoint that gan-zoo-train wrote for this model, or one line saying what is wrong with it."""
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt or "gan_zoo" not in ckpt:
        raise GanZooError(f"{path} is not a gan-zoo-train checkpoint (no state_dict/gan_zoo entries); "
                          "resume from a run directory's checkpoints/last.ckpt")
    ours, theirs = module.state_dict(), ckpt["state_dict"]
    missing, unexpected = sorted(set(ours) - set(theirs)), sorted(set(theirs) - set(ours))
    # an empty tensor of ours is state sized when first filled (e.g. a trick's replay pool): any shape fits it
    shapes = [k for k in set(ours) & set(theirs)
              if tuple(ours[k].shape) != tuple(theirs[k].shape) and ours[k].numel() > 0]
    if missing or unexpected or shapes:
        what = (f"{len(missing)} missing keys (e.g. {missing[0]})" if missing else
                f"{len(unexpected)} unexpected keys (e.g. {unexpected[0]})" if unexpected else
                f"{shapes[0]} has shape {tuple(theirs[shapes[0]].shape)}, the model {tuple(ours[shapes[0]].shape)}")
        raise GanZooError(f"{path} does not match the model of this config: {what}; resume with the run's own "
                          "config.yaml (no model overrides) or start a new run")


# Lightning notes that do not apply here: G_ema is in eval mode on purpose; the CSV logger shares the run dir.
for _pattern in (".*module\\(s\\) in eval mode.*", ".*exists and is not empty.*", ".*LeafSpec.*"):
    warnings.filterwarnings("ignore", message=_pattern)


def train(cfg: DictConfig) -> dict:
    run_dir = Path(HydraConfig.get().runtime.output_dir) if HydraConfig.initialized() else Path(cfg.run_dir)
    ckpt_path = None
    if cfg.resume:
        cfg = _resume_config(cfg, run_dir)
        ckpt_path = cfg.resume
    else:
        if (_is_multirun() or slurm.requeued()) and (run_dir / "status.json").is_file():
            status = _read_status(run_dir)
            if status.get("state") in ("finished", "diverged"):
                print(f"{run_dir}: already {status['state']} at {status.get('kimg')} kimg, skipping")
                return status
            if (run_dir / "checkpoints" / "last.ckpt").is_file():
                ckpt_path = str(run_dir / "checkpoints" / "last.ckpt")
                print(f"{run_dir}: resuming the unfinished run from {ckpt_path}")
        check_unknown_keys(cfg, _task_overrides())
        try:
            cfg = OmegaConf.create(OmegaConf.to_container(cfg, resolve=True))
        except OmegaConfBaseException as exc:  # a bad ${...} or a value of the wrong type
            key = getattr(exc, "full_key", None) or "config"
            raise ConfigError(f"{key}: {' '.join(str(exc).split(chr(10) + '    full_key')[0].split())}; "
                              "fix that value (see the composed config with --cfg job)") from None
        wandb_id = OmegaConf.select(_saved_or_empty(run_dir), "logger.wandb.id", default=None)
        if ckpt_path and wandb_id and "wandb" in cfg.get("logger", {}):
            cfg.logger.wandb.id = wandb_id  # the unfinished job of a sweep continues its wandb run
    if "hydra" in cfg:  # present when composed with return_hydra_config (tests)
        cfg = OmegaConf.masked_copy(cfg, [k for k in cfg if k != "hydra"])
    validate(cfg)
    if "wandb" in cfg.logger and not cfg.logger.wandb.get("id"):
        cfg.logger.wandb.id = uuid.uuid4().hex[:12]  # fixed now, so resume continues the same wandb run
    dashboard_defaults(cfg)  # wandb group (the sweep), job type (table row), tags; saved in config.yaml
    preflight.writable(run_dir)
    preflight.wandb(cfg)
    saved = cfg.copy()
    saved.resume = None  # config.yaml describes the run; which checkpoint a session started from is not part of it
    if ckpt_path is None:
        write_text_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(saved))

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
        accumulate=cfg.get("accumulate", 1), lazy_reg_steps=cfg.get("lazy_reg_steps", False),
    )
    if ckpt_path is not None:
        ckpt = load_checkpoint(Path(ckpt_path))
        _check_resumable(ckpt, Path(ckpt_path), module)
        truncate_history(run_dir, float(ckpt["gan_zoo"].get("kimg", 0.0)))  # rows after it are logged again
        del ckpt
        # the checkpoint fits: a resume records its overrides (e.g. total_kimg=300), so a later plain resume keeps them
        write_text_atomic(run_dir / "config.yaml", OmegaConf.to_yaml(saved))
    preflight.disk_for_checkpoint(module, run_dir)
    datamodule = GanDataModule(dataset, cfg.batch_size // world, cfg.n_dis, cfg.data.num_workers, cfg.seed,
                               cfg.data.pin_memory)
    progress = cfg.trainer.get("enable_progress_bar", True)
    callbacks = list(build_all(cfg.callbacks, "callbacks", keep=lambda n: progress or n != "progress").values())
    if cfg.get("metrics") and cfg.metrics.get("_target_"):
        callbacks.append(build(cfg.metrics, "metrics"))
        preflight.inception_weights(callbacks[-1])
    # the checkpoint callback acts last in every hook, so last.ckpt holds what the other callbacks did that step
    callbacks.sort(key=lambda c: isinstance(c, KimgCheckpoint))
    checkpoint = next((c for c in callbacks if isinstance(c, KimgCheckpoint)), None)
    loggers = build_loggers(cfg, callbacks)
    trainer = build(cfg.trainer, "trainer", callbacks=callbacks, logger=loggers)
    g_params, d_params = module.num_params()
    print(f"G {g_params / 1e6:.3f}M params, D {d_params / 1e6:.3f}M params; run directory {run_dir}")
    try:
        with SIGNALS.catching(extra=slurm.requeue_signals(trainer)):
            trainer.fit(module, datamodule=datamodule, ckpt_path=ckpt_path)
    except DivergenceError as exc:
        if checkpoint is not None:
            checkpoint.write_status(trainer, module, "diverged", str(exc))
        if cfg.on_divergence == "record":
            print(f"diverged: {exc}", file=sys.stderr)
            return {"state": "diverged", "kimg": module.kimg}
        raise
    except (Interrupted, SIGTERMException) as exc:
        if SIGNALS.signum is None:
            raise  # Lightning's own SIGTERMException without a signal we saw: not ours to translate
        message = str(exc) if isinstance(exc, Interrupted) else str(Interrupted(SIGNALS.signum, module.kimg, None))
        if SIGNALS.signum in slurm.requeue_signals(trainer):
            message += "; " + slurm.requeue()  # the requeued job starts this command again and resumes
        print(f"{message}; continue with: {resume_command(run_dir)}", file=sys.stderr)
        raise SystemExit(128 + SIGNALS.signum) from None
    except BaseException as exc:  # a metric, a callback, the disk: the run did not do what it was asked
        if checkpoint is not None and _read_status(run_dir).get("state") in (None, "running", "stopped"):
            if isinstance(exc, (KeyboardInterrupt, SystemExit)):  # a second Ctrl-C: no checkpoint of this step
                state, why = "interrupted", f"stopped at once at kimg {module.kimg:.3f}; last.ckpt is older"
            else:
                state, why = "failed", " ".join(f"{type(exc).__name__}: {exc}".split())
            checkpoint.write_status(trainer, module, state, why)
        raise
    finally:
        _finish_wandb(loggers)
    state = _read_status(run_dir).get("state", "running")
    if checkpoint is not None and state == "running":  # everything, metrics included, succeeded
        state = "finished" if module.kimg >= module.total_kimg - 1e-9 else "stopped"
        checkpoint.write_status(trainer, module, state)
    print(f"done: {module.kimg:.3f} kimg; samples in {run_dir / 'samples'}, metrics in {run_dir / 'metrics.csv'}, "
          f"checkpoint {run_dir / 'checkpoints' / 'last.ckpt'}")
    return {"state": "finished" if state == "running" else state, "kimg": module.kimg, **module.last_values}


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
        from gan_zoo.cli import debug

        if debug() and not _is_multirun():
            raise  # GAN_ZOO_DEBUG=1: the traceback
        print(f"error: {' '.join(str(exc).split())}", file=sys.stderr)
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
    """gan-zoo-train: Hydra's entry point inside the top-level handler of :mod:`gan_zoo.cli` (one-line errors)."""
    from gan_zoo.cli import guarded

    guarded(_hydra_main)()


if __name__ == "__main__":
    main()
