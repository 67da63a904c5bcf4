"""Tricks against mode collapse and non-convergence, each one module acting through :mod:`gan_zoo.hooks`.

Select any list of them with ``trick=[name, ...]`` (``conf/trick/<name>.yaml``); they apply in list order.

=========================  ====================================  =============================================
trick (conf/trick)         paper                                 extension points
=========================  ====================================  =============================================
instance_noise             Sønderby et al. 2017                  d_input
pack                       Lin et al. 2018 (PacGAN)              transform_discriminator, check
minibatch_discrimination   Salimans et al. 2016, Sec. 3.2        transform_discriminator
minibatch_std              Karras et al. 2018, Sec. 3            transform_discriminator
feature_matching           Salimans et al. 2016, Sec. 3.1        g_objective, check
unrolled                   Metz et al. 2017                      g_objective
replay                     Shrivastava et al. 2017               d_fakes (pool in the checkpoint)
mixture                    Hoang et al. 2018 (MGAN; uniform      transform_generator; with classifier_weight:
                           mixing when classifier_weight = 0)    transform_discriminator, g_objective, d_terms
diffaugment                Zhao et al. 2020                      d_input, check
infogan                    Chen et al. 2016                      transform_generator/discriminator, g_objective,
                                                                 d_terms, check
=========================  ====================================  =============================================
"""

from gan_zoo.tricks.diffaugment import DiffAugment
from gan_zoo.tricks.feature_matching import FeatureMatching
from gan_zoo.tricks.infogan import InfoGAN
from gan_zoo.tricks.instance_noise import InstanceNoise
from gan_zoo.tricks.minibatch import MinibatchDiscrimination, MinibatchStd
from gan_zoo.tricks.mixture import Mixture
from gan_zoo.tricks.packing import Pack
from gan_zoo.tricks.replay import Replay
from gan_zoo.tricks.unrolled import Unrolled

__all__ = ["DiffAugment", "FeatureMatching", "InfoGAN", "InstanceNoise", "MinibatchDiscrimination", "MinibatchStd",
           "Mixture", "Pack", "Replay", "Unrolled"]
