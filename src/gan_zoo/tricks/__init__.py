"""Tricks against mode collapse and non-convergence, each one module acting through :mod:`gan_zoo.hooks`.

Select any list of them with ``trick=[name, ...]`` (``conf/trick/<name>.yaml``).
"""

from gan_zoo.tricks.instance_noise import InstanceNoise

__all__ = ["InstanceNoise"]
