"""The sweeper of ``conf/hparams_search``: hydra-optuna-sweeper's, resumable (see :mod:`gan_zoo.hparams_search`).

Hydra loads sweepers only from the ``hydra_plugins`` namespace package, hence this file's place (src/hydra_plugins
is installed with gan_zoo). It subclasses the optuna plugin, so it exists only where that is installed.
"""

from __future__ import annotations

from pathlib import Path

from hydra_plugins.hydra_optuna_sweeper.optuna_sweeper import OptunaSweeper


class ResumableOptunaSweeper(OptunaSweeper):
    """hydra-optuna-sweeper's OptunaSweeper with ``n_trials`` counted over the whole stored study (module
    docstring)."""

    def sweep(self, arguments: list[str]) -> None:
        impl = self.sweeper
        if impl.storage:
            top_up(impl)
        return super().sweep(arguments)


def top_up(impl) -> int:
    """Mark the stored study's RUNNING trials FAILED and re-queue their parameters; set ``impl.n_trials`` to
    the trials still missing. Returns that number."""
    import optuna
    from optuna.trial import TrialState

    storage = str(impl.storage)
    if storage.startswith("sqlite:///"):
        Path(storage[len("sqlite:///"):]).expanduser().parent.mkdir(parents=True, exist_ok=True)
    try:
        study = optuna.load_study(study_name=impl.study_name, storage=storage)
    except KeyError:  # a new study: the plugin creates it
        return impl.n_trials
    done = 0
    for trial in study.get_trials(deepcopy=False):
        if trial.state == TrialState.RUNNING:  # its launch was killed: retry the same point
            study._storage.set_trial_state(trial._trial_id, TrialState.FAIL)
            study.enqueue_trial(trial.params)
        elif trial.state == TrialState.WAITING:
            continue
        else:
            done += 1
    impl.n_trials = max(int(impl.n_trials) - done, 0)
    print(f"optuna study {impl.study_name}: {done} trials stored, {impl.n_trials} to run")
    return impl.n_trials
