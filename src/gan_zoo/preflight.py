"""Checks gan-zoo-train runs before training, so that what would fail hours later fails now, in one line.

- the run directory is writable (a read-only or foreign directory);
- the disk holds a checkpoint (two: the temp file is written beside ``last.ckpt`` before the rename);
- the Inception weights exist (or can be downloaded) when a metric needs them — not at the first evaluation;
- wandb online has credentials and reaches its server within a few seconds (otherwise: mode=offline).

Network checks are one TCP connect with a short timeout (``GAN_ZOO_NET_TIMEOUT`` seconds, default 3).
"""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from pathlib import Path
from urllib.parse import urlparse

from gan_zoo.checkpoint import write_failure
from gan_zoo.errors import ConfigError, GanZooError


def _timeout() -> float:
    return float(os.environ.get("GAN_ZOO_NET_TIMEOUT", "3"))


def reachable(url: str, timeout: float | None = None) -> bool:
    """Whether a TCP connection to ``url``'s host and port opens within ``timeout`` seconds."""
    parsed = urlparse(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        with socket.create_connection((parsed.hostname, port), timeout=timeout or _timeout()):
            return True
    except OSError:
        return False


def writable(run_dir: Path) -> None:
    """Create the run directory and a file in it, or fail naming the directory and the fix."""
    try:
        run_dir.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=run_dir, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise write_failure(run_dir / "status.json", exc) from None


def checkpoint_bytes(module) -> int:
    """What a checkpoint of ``module`` holds: its state (G, D, G_ema, buffers) plus Adam's two moments of G and D."""
    state = sum(t.numel() * t.element_size() for t in module.state_dict().values())
    trained = sum(p.numel() * p.element_size() for p in (*module.G.parameters(), *module.D.parameters()))
    return state + 2 * trained


def disk_for_checkpoint(module, run_dir: Path) -> None:
    need = 2 * checkpoint_bytes(module) + (1 << 20)  # the temp file and last.ckpt side by side, plus logs
    free = shutil.disk_usage(run_dir).free
    if free < need:
        raise GanZooError(f"{run_dir}: {free / 2**20:.0f} MiB free but a checkpoint needs {need / 2**20:.0f} MiB; "
                          "free space there or point paths.runs_dir (GAN_ZOO_RUNS) at a larger disk")


def inception_weights(metrics_callback) -> None:
    """When a configured metric uses Inception features, its weights are on disk or downloadable now."""
    from gan_zoo.metrics.fidelity import URL_INCEPTION_V3, missing_weights_message, resolve_inception_weights

    evaluator = getattr(metrics_callback, "evaluator", None)
    specs = getattr(evaluator, "specs", {}) or {}
    if not any(isinstance(s, str) and s.startswith("inception") for s in specs.values()):
        return
    if resolve_inception_weights(evaluator.inception_weights) is None and not reachable(URL_INCEPTION_V3):
        raise GanZooError(missing_weights_message(f"not downloaded, and {urlparse(URL_INCEPTION_V3).hostname} "
                                                  f"is unreachable within {_timeout():g}s"))


def wandb(cfg) -> None:
    """logger.wandb.mode=online: an API key, and the server answers; else one line advising offline mode."""
    node = cfg.logger.get("wandb")
    if node is None or node.get("mode") != "online":
        return
    offline = "or set logger.wandb.mode=offline (sync later with `wandb sync <run_dir>/wandb/offline-run-*`)"
    key = os.environ.get("WANDB_API_KEY")
    if not key:
        try:
            key = _netrc_key()
        except Exception:  # a malformed ~/.netrc holds no usable key either
            key = None
    if not key:
        raise ConfigError(f"logger.wandb.mode=online but no wandb API key: run `wandb login` or set WANDB_API_KEY, "
                          f"{offline}")
    base = os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")
    if not reachable(base):
        raise ConfigError(f"logger.wandb.mode=online but {urlparse(base).hostname} is unreachable within "
                          f"{_timeout():g}s; {offline}")


def _netrc_key() -> str | None:
    """The API key `wandb login` stored in ~/.netrc (or $NETRC) for the wandb host."""
    import netrc

    path = os.environ.get("NETRC") or str(Path.home() / ".netrc")
    if not Path(path).is_file():
        return None
    host = urlparse(os.environ.get("WANDB_BASE_URL", "https://api.wandb.ai")).hostname
    auth = netrc.netrc(path).authenticators(host)
    return auth[2] if auth else None
