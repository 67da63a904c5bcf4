"""Generator and discriminator networks.

Each network module keeps the contracts of ``docs/architecture.md``: a generator is called as ``G(z, c)``
and has ``z_dim``, ``c_dim``, ``resolution`` and ``img_channels``; a discriminator is called as ``D(x, c)``,
returns logits of shape ``[N]`` and has ``c_dim`` and ``resolution``. ``c`` is a one-hot float
``[N, c_dim]`` or None.

- :mod:`gan_zoo.models.layers` -- building blocks shared by the R3GAN networks (FIR resampling, fix-up init,
  biased leaky ReLU, residual blocks, transition layers).
- :mod:`gan_zoo.models.r3gan` -- R3GAN's generator and discriminator (configs D and E of the paper's
  roadmap).
"""
