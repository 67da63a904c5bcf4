"""A test-only callback: multiply one weight of G or D by a factor once, at a given iteration (a synthetic
spectral explosion), selected in a run config as ``+callbacks.bomb._target_=...``."""

import pytorch_lightning as pl
import torch


class ScaleWeightAt(pl.Callback):
    def __init__(self, iteration: int, factor: float = 20.0, net: str = "G", param: str = "net.0.weight") -> None:
        self.iteration, self.factor, self.net, self.param, self.done = int(iteration), float(factor), net, param, False

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx) -> None:
        if not self.done and pl_module.iteration == self.iteration:
            with torch.no_grad():
                dict(getattr(pl_module, self.net).named_parameters())[self.param].mul_(self.factor)
            self.done = True
