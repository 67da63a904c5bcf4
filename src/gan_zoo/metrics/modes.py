"""StackedMNIST mode coverage (Metz et al. 2017, Sec. 3.3.2; VEEGAN, Srivastava et al. 2017, Sec. 5.2;
PacGAN, Lin et al. 2018, Sec. 5.1).

Each generated sample's three channels are classified by a pretrained digit classifier (argmax); the digits
``(d0, d1, d2)`` form the mode ``100*d0 + 10*d1 + d2`` of 1000. Reported are

- modes covered: distinct modes with at least one sample;
- reverse KL: ``KL(q || uniform) = sum_k q_k log(q_k K) = log K - H(q)`` (nats), q the empirical mode
  histogram.

The papers evaluate 26,000 samples (VEEGAN/PacGAN; Unrolled GAN used 25,600).
"""

from __future__ import annotations

import numpy as np
import torch

from gan_zoo.errors import ConfigError

DEFAULT_SAMPLES = 26_000


def stacked_labels(digits: np.ndarray | torch.Tensor, num_classes: int = 10) -> np.ndarray:
    """Per-channel class indices ``[N, C]`` -> mode labels ``sum_k d_k * num_classes^(C-1-k)`` (``[N]``)."""
    d = np.asarray(digits.cpu() if isinstance(digits, torch.Tensor) else digits, dtype=np.int64)
    if d.ndim != 2:
        raise ConfigError(f"stacked labels need per-channel digits [N, C], got shape {d.shape}")
    if d.size and (d.min() < 0 or d.max() >= num_classes):
        raise ConfigError(f"digits span [{d.min()}, {d.max()}], outside 0..{num_classes - 1}")
    place = num_classes ** np.arange(d.shape[1] - 1, -1, -1, dtype=np.int64)
    return d @ place


def mode_histogram(labels: np.ndarray, num_modes: int = 1000) -> np.ndarray:
    labels = np.asarray(labels, dtype=np.int64)
    if labels.size == 0:
        raise ConfigError("mode metrics need at least one sample")
    if labels.min() < 0 or labels.max() >= num_modes:
        raise ConfigError(f"mode labels span [{labels.min()}, {labels.max()}], outside 0..{num_modes - 1}")
    return np.bincount(labels, minlength=num_modes)


def modes_covered(labels: np.ndarray, num_modes: int = 1000) -> int:
    """Number of distinct modes with >= 1 sample."""
    return int((mode_histogram(labels, num_modes) > 0).sum())


def reverse_kl(labels: np.ndarray, num_modes: int = 1000) -> float:
    """``KL(q || uniform over num_modes) = log num_modes - H(q)`` in nats (0 log 0 = 0)."""
    counts = mode_histogram(labels, num_modes)
    q = counts[counts > 0] / counts.sum()
    return float(np.log(num_modes) + (q * np.log(q)).sum())


def classify_channels(logits: torch.Tensor) -> np.ndarray:
    """Per-channel logits ``[N, C, classes]`` -> argmax digits ``[N, C]``."""
    if logits.ndim != 3:
        raise ConfigError(f"expected per-channel logits [N, C, classes], got shape {tuple(logits.shape)}")
    return logits.argmax(-1).cpu().numpy()


def mode_metrics(logits: torch.Tensor) -> dict[str, float]:
    """``{"modes": covered, "kl": reverse KL}`` from per-channel classifier logits ``[N, C, classes]``.
    StackedMNIST has C = 3 channels and 10 classes: 1000 modes."""
    if logits.ndim != 3 or logits.shape[1] != 3:
        raise ConfigError(
            "modes_kl needs 3-channel stacked images (one digit per channel); "
            f"got logits {tuple(logits.shape)}"
        )
    classes = logits.shape[-1]
    labels = stacked_labels(classify_channels(logits), classes)
    num_modes = classes ** logits.shape[1]
    return {"modes": float(modes_covered(labels, num_modes)), "kl": reverse_kl(labels, num_modes)}


@torch.no_grad()
def classify_generated(
    G: torch.nn.Module, classifier, n: int = DEFAULT_SAMPLES, batch_size: int = 256, seed: int = 0
) -> np.ndarray:
    """Mode labels of ``n`` fixed-seed samples of ``G`` (via :mod:`gan_zoo.sampling`), each channel
    classified by ``classifier`` (a :class:`~gan_zoo.metrics.extractors.ClassifierExtractor`, or anything
    returning ``{"logits": [N, C, classes]}`` for uint8 images)."""
    from gan_zoo.metrics.extractors import extract_generated

    logits = extract_generated(G, classifier, n, batch_size, seed)["logits"]
    return stacked_labels(classify_channels(logits), logits.shape[-1])


def dataset_mode_metrics(dataset, extractor, n: int = DEFAULT_SAMPLES, batch_size: int = 1024) -> dict[str, float]:
    """``{"modes", "kl"}`` of the first ``n`` real images of ``dataset``, classified exactly as generated samples
    are: the metric's ceiling at this N and classifier. A perfect generator draws modes uniformly, so with
    N = 26,000 and 1000 modes it still shows a KL of about 0.02 nats (finite-sample noise), and classifier
    errors add to that; a row's gap to the paper is measured against this line, not against 1000 and 0."""
    from gan_zoo.metrics.extractors import extract_dataset

    if len(dataset) < n:
        raise ConfigError(f"the data reference needs {n} images; the dataset has {len(dataset)}: "
                          "lower the sample count or use a larger dataset.num_images")
    return mode_metrics(extract_dataset(dataset, extractor, np.arange(n), batch_size)["logits"])
