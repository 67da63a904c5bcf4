"""Regularizers: named penalty terms added to D's (or G's) objective; see ``base.py`` for the contract."""

from gan_zoo.regularizers.base import DStepInputs, GStepInputs, Regularizer
from gan_zoo.regularizers.constraints import SpectralNorm, WeightClip
from gan_zoo.regularizers.gradient_penalty import R1, R2
from gan_zoo.regularizers.orthogonal import OrthogonalInit, OrthogonalRegularizer
from gan_zoo.regularizers.wgan_gp import DRAGAN, WGANGP

__all__ = ["DRAGAN", "DStepInputs", "GStepInputs", "OrthogonalInit", "OrthogonalRegularizer", "Regularizer", "R1",
           "R2", "SpectralNorm", "WGANGP", "WeightClip"]
