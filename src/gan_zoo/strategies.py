"""Data-parallel training where the module averages gradients itself.

Lightning's DDPStrategy wraps the module in torch's DistributedDataParallel, whose reducer assumes one
backward pass per forward and fires on parameter-gradient accumulation. A GAN iteration runs several
backward passes (D steps, G step) and its R1/R2 penalties differentiate through ``autograd.grad`` with
``create_graph=True``, which the reducer does not follow. stylegan2-ada's training loop solves this by not
using the DDP wrapper and all-reducing flattened gradients by hand; gan_zoo does the same: this strategy
keeps Lightning's process launch, process group and samplers, broadcasts rank 0's weights once, and skips the
wrapper; :meth:`gan_zoo.module.AdversarialModule._sync_grads` averages gradients before each optimizer step.
It also keeps Lightning from replacing the loader's sampler: :class:`gan_zoo.data.datamodule.InfiniteSampler`
already gives each rank its share of one global stream, and Lightning's ``DistributedSamplerWrapper`` needs a
finite sampler (it raises ``TypeError`` for one without ``__len__``).
"""

from __future__ import annotations

from pytorch_lightning.strategies import DDPStrategy
from pytorch_lightning.strategies.ddp import _sync_module_states


class GradSyncDDPStrategy(DDPStrategy):
    strategy_name = "gan_zoo_grad_sync_ddp"

    def setup(self, trainer) -> None:
        # Trainer(use_distributed_sampler=False) for every run on this strategy, whatever the trainer config says.
        trainer._accelerator_connector.use_distributed_sampler = False
        super().setup(trainer)

    def configure_ddp(self) -> None:
        _sync_module_states(self.model)
