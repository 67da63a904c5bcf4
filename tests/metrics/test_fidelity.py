"""torch-fidelity integration: the defect pins, offline weights handling, and agreement of gan_zoo's
in-process metrics with torch-fidelity on the same samples (random-weight Inception: offline, values
meaningless)."""

from __future__ import annotations

import urllib.error

import numpy as np
import pytest
import torch
import torch_fidelity
from metrics_helpers import TinyImageG, image_dataset
from torch_fidelity.defaults import DEFAULTS
from torch_fidelity.feature_extractor_inceptionv3 import FeatureExtractorInceptionV3
from torch_fidelity.helpers import text_to_dtype

from gan_zoo.data.base import to_uint8
from gan_zoo.errors import ConfigError, GanZooError
from gan_zoo.metrics.callback import MetricEvaluator
from gan_zoo.metrics.extractors import InceptionExtractor
from gan_zoo.metrics.fidelity import (
    INCEPTION_WEIGHTS_FILE,
    InceptionV3Compat,
    build_inception,
    calculate_metrics,
)
from gan_zoo.sampling import generate_batches


class Images(torch.utils.data.Dataset):
    """What torch-fidelity reads: a dataset of uint8 [3, H, W] tensors."""

    def __init__(self, x):
        self.x = torch.as_tensor(np.asarray(x))

    def __len__(self):
        return len(self.x)

    def __getitem__(self, i):
        return self.x[i]


class CondModule(torch.nn.Module):
    """A conditional torch-fidelity model module(z, labels) -> uint8; records the labels it was given."""

    def __init__(self):
        super().__init__()
        self.seen: list[int] = []
        self.lin = torch.nn.Linear(4, 3 * 8 * 8)

    def forward(self, z, labels):
        self.seen += labels.tolist()
        return ((torch.tanh(self.lin(z)).view(-1, 3, 8, 8) + 1) * 127.5).to(torch.uint8)


def test_pin_np_int_crash_for_conditional_generators(inception_weights):
    """torch-fidelity 0.4.0 crashes on num_classes > 0 (np.int). If this test fails because the raw call
    works, torch-fidelity fixed it: drop the class-cycling wrapper in fidelity.calculate_metrics."""
    kwargs = dict(
        input1_model_num_samples=4,
        isc=True,
        isc_splits=2,
        cuda=False,
        verbose=False,
        feature_extractor_weights_path=inception_weights,
    )
    module = CondModule()
    with pytest.raises(AttributeError, match="np.int"):
        torch_fidelity.calculate_metrics(
            input1=torch_fidelity.GenerativeModelModuleWrapper(module, 4, "normal", 3), **kwargs
        )
    module.seen.clear()
    out = calculate_metrics(
        input1=torch_fidelity.GenerativeModelModuleWrapper(module, 4, "normal", 3), **kwargs
    )
    assert module.seen == [0, 1, 2, 0]  # fixed, class-balanced order
    assert np.isfinite(out["inception_score_mean"])


def test_pin_float64_silently_float32(inception_weights, monkeypatch):
    """torch-fidelity 0.4.0 maps "float64" to float32. If the first assertion fails, torch-fidelity fixed it:
    drop InceptionV3Compat's cast."""
    assert text_to_dtype("float64") is torch.float32
    raw = FeatureExtractorInceptionV3(
        "inception-v3-compat",
        ["2048"],
        feature_extractor_weights_path=inception_weights,
        feature_extractor_internal_dtype="float64",
    )
    assert next(raw.parameters()).dtype == torch.float32  # the defect
    ours64 = build_inception(inception_weights, dtype="float64")
    ours32 = build_inception(inception_weights, dtype="float32")
    assert {p.dtype for p in ours64.parameters()} == {torch.float64}
    x = torch.from_numpy(image_dataset(2, resolution=8).images)
    f64, f32 = ours64(x)[0], ours32(x)[0]
    torch.testing.assert_close(f64, f32, rtol=1e-4, atol=1e-5)
    with pytest.raises(ConfigError, match="float32"):
        build_inception(inception_weights, dtype="float16")
    # through calculate_metrics, "float64" selects the fixed extractor (a registered subclass)
    dtypes = []
    original = InceptionV3Compat.forward

    def spy(self, images):
        dtypes.append(next(self.parameters()).dtype)
        return original(self, images)

    monkeypatch.setattr(InceptionV3Compat, "forward", spy)
    kwargs = dict(input1=Images(x.numpy()), isc=True, isc_splits=2, feature_extractor_weights_path=inception_weights)
    is64 = calculate_metrics(feature_extractor_internal_dtype="float64", **kwargs)["inception_score_mean"]
    is32 = calculate_metrics(**kwargs)["inception_score_mean"]
    assert dtypes == [torch.float64]  # the float32 call ran torch-fidelity's own (unpatched) class
    assert is64 == pytest.approx(is32, rel=1e-4)


@pytest.mark.skipif(torch.cuda.is_available(), reason="the defect shows only on machines without CUDA")
def test_pin_cuda_true_default(inception_weights):
    """torch-fidelity 0.4.0 defaults cuda=True, which fails on CPU-only machines. If this fails, the default
    changed: drop the cuda default in fidelity.calculate_metrics."""
    assert DEFAULTS["cuda"] is True
    kwargs = dict(
        input1=Images(image_dataset(2, resolution=8).images),
        isc=True,
        isc_splits=2,
        verbose=False,
        feature_extractor_weights_path=inception_weights,
    )
    with pytest.raises((RuntimeError, AssertionError)):
        torch_fidelity.calculate_metrics(**kwargs)
    assert np.isfinite(calculate_metrics(**kwargs)["inception_score_mean"])


def test_offline_without_weights_is_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))

    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr("torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url", offline)
    with pytest.raises(GanZooError) as info:
        build_inception(None)
    message = str(info.value)
    assert "\n" not in message
    assert INCEPTION_WEIGHTS_FILE in message
    assert str(tmp_path / "torch" / "hub" / "checkpoints") in message
    assert "metrics.inception_weights=<path>" in message
    with pytest.raises(ConfigError, match=r"metrics.inception_weights=/nonexistent/w.pth: file not found"):
        build_inception("/nonexistent/w.pth")


def test_hub_cached_weights_are_used_without_download(tmp_path, monkeypatch, inception_weights):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    cached = tmp_path / "torch" / "hub" / "checkpoints" / INCEPTION_WEIGHTS_FILE
    cached.parent.mkdir(parents=True)
    cached.write_bytes(open(inception_weights, "rb").read())

    def no_network(*args, **kwargs):
        raise AssertionError("must not download when the file is in the hub cache")

    monkeypatch.setattr("torch_fidelity.feature_extractor_inceptionv3.load_state_dict_from_url", no_network)
    ext = InceptionExtractor(None)
    assert ext.tag == "inception" and ext.resize(32) == "tf1-bilinear-299"


def fid_low_rank(f1: torch.Tensor, f2: torch.Tensor) -> float:
    """Heusel et al. 2017, Eq. 6: ||mu1 - mu2||^2 + tr(S1 + S2 - 2 (S1 S2)^(1/2)), sample covariances (ddof 1).
    With S = A^T A (A the centred features / sqrt(n - 1)), tr (S1 S2)^(1/2) is the sum of the singular values
    of A1 A2^T (n1 x n2), so nothing 2048 x 2048 is formed."""
    a1 = (f1 - f1.mean(0)) / (len(f1) - 1) ** 0.5
    a2 = (f2 - f2.mean(0)) / (len(f2) - 1) ** 0.5
    mean_term = (f1.mean(0) - f2.mean(0)).square().sum()
    return float(mean_term + a1.square().sum() + a2.square().sum() - 2 * torch.linalg.svdvals(a1 @ a2.T).sum())


def test_in_process_metrics_agree_with_torch_fidelity(tmp_path, inception_weights):
    """Same generated samples and real images through gan_zoo's evaluator (generator -> extractor, no files)
    and through torch_fidelity.calculate_metrics: KID, IS and PR agree. FID agrees with the Fréchet distance
    of torch-fidelity's own pool3 features, computed here by hand (torch-fidelity's FID would spend ~10 s in a
    non-symmetric 2048 x 2048 sqrtm; with 8 samples per side the covariances have rank 7, see fid_low_rank)."""
    G = TinyImageG(resolution=8)
    real = image_dataset(8, resolution=8)
    evaluator = MetricEvaluator(
        ["fid", "kid", "is", "pr"],
        num_samples=8,
        inception_weights=inception_weights,
        cache_dir=str(tmp_path),
        kid_subsets=5,
        kid_subset_size=5,
        is_splits=2,
        batch_size=4,
    )
    ours = {v.name: v for v in evaluator.evaluate(G, real)}
    fake = torch.cat([to_uint8(x) for x, _ in generate_batches(G, 8, 4, seed=0)])
    theirs = calculate_metrics(
        input1=Images(fake),
        input2=Images(real.images),
        isc=True,
        kid=True,
        prc=True,
        feature_extractor="inception-v3-compat",
        feature_extractor_weights_path=inception_weights,
        kid_subsets=5,
        kid_subset_size=5,
        isc_splits=2,
        save_cpu_ram=True,
        cache=False,
    )
    assert ours["kid"].value == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-5)
    assert ours["kid"].extra["std"] == pytest.approx(theirs["kernel_inception_distance_std"], rel=1e-4)
    assert ours["is"].value == pytest.approx(theirs["inception_score_mean"], rel=1e-6)
    assert ours["precision[inception]"].value == pytest.approx(theirs["precision"])
    assert ours["recall[inception]"].value == pytest.approx(theirs["recall"])
    raw = FeatureExtractorInceptionV3("inception-v3-compat", ["2048"], feature_extractor_weights_path=inception_weights)
    expected_fid = fid_low_rank(raw(fake)[0].double(), raw(torch.from_numpy(real.images))[0].double())
    assert ours["fid"].value == pytest.approx(expected_fid, rel=1e-4)
    for v in ours.values():
        assert (v.n, v.extractor, v.resize) == (8, "inception", "tf1-bilinear-299")
    assert ours["fid"].ref_hash == ours["kid"].ref_hash and ours["is"].ref_hash is None


def test_extractor_features_are_torch_fidelity_features(inception_weights):
    """The in-process extractor is torch-fidelity's net: identical pool3 features, grey repeated to RGB."""
    ext = InceptionExtractor(inception_weights)
    raw = FeatureExtractorInceptionV3(
        "inception-v3-compat", ["2048"], feature_extractor_weights_path=inception_weights
    )
    grey = torch.from_numpy(image_dataset(3, channels=1, resolution=12).images)
    ours = ext(grey)
    assert ours["pool"].shape == (3, 2048) and ours["logits"].shape == (3, 1008)
    torch.testing.assert_close(ours["pool"], raw(grey.repeat(1, 3, 1, 1))[0], rtol=1e-5, atol=1e-6)
    with pytest.raises(ConfigError, match="uint8"):
        ext(grey.float())
