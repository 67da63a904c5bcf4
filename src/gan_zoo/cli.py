"""The one top-level error handler of every gan_zoo console script: a mistake or a fault prints one line
``error: <what, naming the key or file>; <the fix>`` on stderr and exits 2; a bug still shows its traceback.

Handled by class, wherever they are raised (the exception, or one in its ``__cause__``/``__context__`` chain):

- :class:`~gan_zoo.errors.GanZooError` (config values, data files, checkpoints, preflight checks);
- Hydra's composition errors: a missing group option (with the available ones), an unknown key (with the
  nearest known key, e.g. ``did you mean total_kimg?``; never Hydra's ``+key`` hint, which would train with the
  typo ignored), an unparsable override, a group given twice;
- OmegaConf errors (bad interpolation, wrong type), named by their full key;
- permission, read-only, quota and disk-full errors (``OSError``), named by the file;
- CUDA asked for where there is no GPU.

``GAN_ZOO_DEBUG=1`` re-raises instead, for the full traceback (Hydra's ``HYDRA_FULL_ERROR`` is set by this
handler, so Hydra passes its errors on instead of printing ten lines of its own).

The console scripts in pyproject.toml point here (``gan_zoo.cli:train``, ...); ``python -m gan_zoo.cli <script>
<args>`` runs one the same way (``python -m gan_zoo.cli eval runs/x``).
"""

from __future__ import annotations

import difflib
import errno
import importlib
import os
import re
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

DEBUG_ENV = "GAN_ZOO_DEBUG"
EXIT_USER_ERROR = 2
SCRIPTS = {
    "train": "gan_zoo.train",
    "eval": "gan_zoo.evaluate",
    "report": "gan_zoo.report",
    "prepare": "gan_zoo.data.prepare",
    "train-classifier": "gan_zoo.metrics.train_classifier",
    "truncation-curve": "gan_zoo.truncation_curve",
    "sample": "gan_zoo.sample",
    "export": "gan_zoo.export",
}
WRITE_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EPERM, errno.EROFS)


def debug() -> bool:
    return os.environ.get(DEBUG_ENV, "") not in ("", "0", "false", "no")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


def _flat(text: str) -> str:
    return " ".join(str(text).split())


def _argv_overrides() -> list[str]:
    return [a for a in sys.argv[1:] if "=" in a and not a.startswith("-")]


def nearest_key(key: str, exclude: str | None = None) -> str | None:
    """The known config key closest to ``key`` (same parent), from the train config composed with this command's
    other overrides."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra
    from omegaconf import DictConfig

    from gan_zoo.paths import CONF_DIR

    others = [o for o in _argv_overrides() if o != exclude and not o.startswith("hydra")]
    try:
        GlobalHydra.instance().clear()
        with initialize_config_dir(config_dir=str(CONF_DIR), version_base="1.3"):
            cfg = compose(config_name="train", overrides=others)
    except Exception:  # the other overrides fail too: the top-level keys of train.yaml
        from omegaconf import OmegaConf

        cfg = OmegaConf.load(CONF_DIR / "train.yaml")
    finally:
        GlobalHydra.instance().clear()
    parent, _, leaf = key.rpartition(".")
    node = cfg
    for part in parent.split(".") if parent else []:
        node = node.get(part) if isinstance(node, DictConfig) else None
    if not isinstance(node, DictConfig):
        return None
    near = difflib.get_close_matches(leaf, [str(k) for k in node.keys()], n=1, cutoff=0.6)
    return f"{parent}.{near[0]}" if near and parent else (near[0] if near else None)


def _resumed_run_has(key: str) -> bool:
    """Whether the run named by this command's ``resume=`` has ``key`` in its config.yaml."""
    from omegaconf import OmegaConf

    resume = next((o.split("=", 1)[1] for o in _argv_overrides() if o.startswith("resume=")), None)
    if not resume:
        return False
    path = Path(resume).expanduser()
    run_dir = path.parent.parent if path.suffix == ".ckpt" else path
    try:
        return OmegaConf.select(OmegaConf.load(run_dir / "config.yaml"), key, default=None) is not None
    except Exception:  # no or a broken config.yaml: resume itself will say so
        return False


def _hydra_message(exc: BaseException) -> str | None:
    from hydra.errors import (
        ConfigCompositionException,
        HydraException,
        MissingConfigException,
        OverrideParseException,
    )

    text = str(exc)
    if isinstance(exc, MissingConfigException):
        missing = re.search(r"Could not find '([^']+)'", text)
        options = re.search(r"Available options in '([^']+)':\n((?:\t.*\n?)*)", text)
        if missing and options:
            from gan_zoo.paths import CONF_DIR

            name, group = missing.group(1), options.group(1)
            option = name[len(group) + 1:] if name.startswith(group + "/") else name
            folder = Path(name).parent  # model/r3gan for model/r3gan/huge: list that folder, not conf/model
            where = CONF_DIR / folder
            if where.is_dir():
                choices = sorted(p.stem if p.suffix == ".yaml" else f"{p.name}/..." for p in where.iterdir()
                                 if p.suffix == ".yaml" or p.is_dir())
                prefix = str(folder.relative_to(group)) + "/" if folder != Path(group) else ""
                choices = [prefix + c for c in choices]
            else:
                choices = [c.strip() for c in options.group(2).splitlines() if c.strip()]
            near = difflib.get_close_matches(option, choices, n=1, cutoff=0.75)
            hint = f"did you mean {group}={near[0]}? " if near else ""
            return (f"{group}={option}: Could not find '{name}' in conf/; {hint}available in conf/{folder}/: "
                    f"{', '.join(choices)}")
        return _flat(text.split("Config search path")[0])
    if isinstance(exc, ConfigCompositionException):
        override = re.search(r"Could not override '([^']+)'", text)
        if override:
            key = override.group(1)
            given = next((o for o in _argv_overrides() if o.split("=", 1)[0] == key), None)
            if given and _resumed_run_has(key):  # a key of the run's own groups (e.g. its model), not the defaults'
                return (f"{key} is a key of the run being resumed but not of the default config that resume "
                        f"starts from: write +{given}")
            near = nearest_key(key, exclude=given)
            hint = (f"did you mean {near}?" if near else
                    "no such key; list the keys with `gan-zoo-train --cfg job`")
            return f"unknown key {key}: {hint}"
        multiple = re.search(r"Multiple values for (\S+?)\.|(\S+) appears more than once", text)
        if multiple:
            group = multiple.group(1) or multiple.group(2)
            return f"{group} is already chosen by the defaults: write {group}=<option> (without +) to change it"
        return _flat(text)
    if isinstance(exc, OverrideParseException):
        return (f"cannot parse an override ({_flat(text.splitlines()[0])}); quote a list for the shell, e.g. "
                "'metrics.metrics=[fid,kid]', and a value holding = , or spaces (a sweep run's path) for Hydra "
                "too, e.g. \"resume='runs/sweeps/roadmap/B/budget=cpu_long,seed=0'\"")
    if isinstance(exc, HydraException):
        return _flat(text)
    return None


def _omegaconf_message(exc: BaseException) -> str | None:
    from omegaconf.errors import OmegaConfBaseException

    if not isinstance(exc, OmegaConfBaseException):
        return None
    first = _flat(str(exc).split("\n    full_key")[0])
    key = getattr(exc, "full_key", None)
    return f"{key}: {first}" if key else first


def _os_message(exc: BaseException) -> str | None:
    if isinstance(exc, OSError) and exc.errno in WRITE_ERRNOS:
        from gan_zoo.checkpoint import write_failure

        return str(write_failure(Path(exc.filename or "."), exc))
    return None


def _cuda_message(exc: BaseException) -> str | None:
    text = str(exc)
    if isinstance(exc, (RuntimeError, AssertionError)) and re.search(
            r"not compiled with CUDA|no CUDA GPUs|NVIDIA driver|CUDA.{0,40}not available", text, re.I):
        return ("CUDA was asked for but no GPU is available here: use trainer=cpu (gan-zoo-train) or device=cpu "
                f"(gan-zoo-eval) [{_flat(text)[:120]}]")
    return None


def describe(exc: BaseException) -> str | None:
    """The one-line message for an error of a handled class, else None (a bug: keep its traceback)."""
    from gan_zoo.errors import GanZooError

    chain = list(_chain(exc))
    for e in chain:
        if isinstance(e, GanZooError):
            return _flat(str(e))
    for describe_one in (_os_message, _cuda_message, _hydra_message, _omegaconf_message):  # the root cause first
        for e in chain:
            message = describe_one(e)
            if message:
                return message
    return None


def guarded(main: Callable[[], object]) -> Callable[[], None]:
    """``main`` with the top-level handler: its int result is the exit status; handled errors are one line and
    exit 2 (re-raised when ``GAN_ZOO_DEBUG=1``)."""

    def run() -> None:
        os.environ.setdefault("HYDRA_FULL_ERROR", "1")  # Hydra raises; this handler prints
        try:
            result = main()
        except KeyboardInterrupt:
            print("error: interrupted (Ctrl-C)", file=sys.stderr)
            raise SystemExit(130) from None
        except Exception as exc:
            message = None if debug() else describe(exc)
            if message is None:
                raise
            print(f"error: {message}", file=sys.stderr)
            raise SystemExit(EXIT_USER_ERROR) from None
        if isinstance(result, int) and not isinstance(result, bool):
            raise SystemExit(result)

    return run


def _script(module: str) -> Callable[[], None]:
    return guarded(lambda: importlib.import_module(module).main())


train = _script(SCRIPTS["train"])
evaluate = _script(SCRIPTS["eval"])
report = _script(SCRIPTS["report"])
prepare = _script(SCRIPTS["prepare"])
train_classifier = _script(SCRIPTS["train-classifier"])
truncation_curve = _script(SCRIPTS["truncation-curve"])
sample = _script(SCRIPTS["sample"])
export = _script(SCRIPTS["export"])


def main() -> None:
    """``python -m gan_zoo.cli <script> <args>``: the console script ``gan-zoo-<script>``."""
    if len(sys.argv) < 2 or sys.argv[1] not in SCRIPTS:
        print(f"usage: python -m gan_zoo.cli {{{','.join(SCRIPTS)}}} [args]", file=sys.stderr)
        raise SystemExit(EXIT_USER_ERROR)
    name = sys.argv.pop(1)
    sys.argv[0] = f"gan-zoo-{name}"
    _script(SCRIPTS[name])()


if __name__ == "__main__":
    main()
