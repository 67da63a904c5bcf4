"""Analyses of training dynamics: the Dirac-GAN's linearised update (:mod:`gan_zoo.analysis.dirac`)."""
