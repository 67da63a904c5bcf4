"""gan_zoo's Hydra plugin: the resumable Optuna sweeper of conf/hparams_search."""
