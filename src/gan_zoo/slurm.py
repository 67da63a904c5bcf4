"""SLURM requeue for a plain ``sbatch`` job (sweeps through submitit requeue themselves).

With ``#SBATCH --signal=USR1@90`` (or ``B:USR1@90``) SLURM warns a job before its time limit or preemption.
Lightning's SLURM environment (``auto_requeue``) names that signal; while training, gan-zoo-train records it
like SIGTERM (:mod:`gan_zoo.callbacks.checkpoint`): the current step ends, ``last.ckpt`` is written atomically,
status becomes ``interrupted``, and ``scontrol requeue <job>`` puts the job back in the queue. The requeued job
runs the same command (``SLURM_RESTART_COUNT`` > 0): its run directory is the one the job wrote before (the
marker ``<runs>/<name>/.slurm-<job>`` holds it), and an unfinished run there resumes from its last.ckpt.
Lightning's own requeue handler is not installed (gan_zoo's is, first), so there is one checkpoint, written
between steps.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path


def job_id() -> str | None:
    array, task = os.environ.get("SLURM_ARRAY_JOB_ID"), os.environ.get("SLURM_ARRAY_TASK_ID")
    if array and task:
        return f"{array}_{task}"
    return os.environ.get("SLURM_JOB_ID")


def requeued() -> bool:
    return job_id() is not None and int(os.environ.get("SLURM_RESTART_COUNT", "0") or 0) > 0


def _marker(default: str) -> Path | None:
    job = job_id()
    return None if job is None else Path(default).parent / f".slurm-{job}"


def remember_run_dir(default: str, run_dir: str) -> None:
    marker = _marker(default)
    if marker is not None:
        from gan_zoo.checkpoint import write_text_atomic

        write_text_atomic(marker, run_dir + "\n")


def earlier_run_dir(default: str) -> str | None:
    """The run directory this SLURM job used before it was requeued (None for a first start)."""
    marker = _marker(default)
    if not requeued() or marker is None or not marker.is_file():
        return None
    run_dir = marker.read_text().strip()
    return run_dir if Path(run_dir).is_dir() else None


def requeue_signals(trainer) -> tuple[int, ...]:
    """The signal Lightning's SLURM environment asks to requeue on, when auto-requeue is on."""
    from lightning_fabric.plugins.environments import SLURMEnvironment

    env = getattr(getattr(trainer, "_accelerator_connector", None), "cluster_environment", None)
    if isinstance(env, SLURMEnvironment) and env.auto_requeue and env.requeue_signal is not None:
        return (int(env.requeue_signal),)
    return ()


def requeue() -> str:
    """``scontrol requeue <job>`` (rank 0's business; one line saying what happened)."""
    job = job_id()
    if job is None:
        return "not a SLURM job, not requeued"
    try:
        done = subprocess.run(["scontrol", "requeue", job], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"scontrol requeue {job} failed ({type(exc).__name__}); requeue it by hand"
    if done.returncode != 0:
        return f"scontrol requeue {job} failed: {' '.join(done.stderr.split())[:200]}"
    return f"SLURM job {job} requeued"
