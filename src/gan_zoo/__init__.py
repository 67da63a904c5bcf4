"""gan_zoo: GAN research as configured, reproducible experiments. ``gan_zoo.load(path)`` gives a trained
generator (see :mod:`gan_zoo.api`)."""

from gan_zoo.api import Generator, load

__all__ = ["Generator", "load"]
