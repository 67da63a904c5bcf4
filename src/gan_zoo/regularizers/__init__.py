"""Regularizers: named penalty terms added to D's (or G's) objective; see ``base.py`` for the contract."""

from gan_zoo.regularizers.base import DStepInputs, GStepInputs, Regularizer
from gan_zoo.regularizers.gradient_penalty import R1, R2

__all__ = ["DStepInputs", "GStepInputs", "Regularizer", "R1", "R2"]
