"""The digit classifier: training on scikit-learn digits, caching, the classifier extractor and its CLI."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from gan_zoo.data.digits import digits, stacked_digits
from gan_zoo.errors import ConfigError, DataError
from gan_zoo.metrics.classifier import DigitClassifier, classifier_path, default_cache_dir, load_classifier
from gan_zoo.metrics.extractors import ClassifierExtractor, extract_dataset, make_extractor, parse_spec
from gan_zoo.metrics.frechet import frechet_distance
from gan_zoo.metrics.modes import classify_channels, stacked_labels
from gan_zoo.metrics.train_classifier import main, parse_args, run


@pytest.fixture(scope="module")
def digits_classifier(tmp_path_factory):
    """Train the 8 px CNN on 80 % of scikit-learn digits (a short schedule: the test checks it learns)."""
    cache = tmp_path_factory.mktemp("cache")
    lines: list[str] = []
    result = run(
        parse_args(["dataset=digits", "epochs=10", "lr=3e-3", f"cache_dir={cache}"]), log=lines.append
    )
    return str(cache), result, lines


def test_training_reaches_high_test_accuracy_and_caches(digits_classifier):
    cache, result, lines = digits_classifier
    assert result["test_accuracy"] > 0.9, lines
    assert result["path"] == str(classifier_path("digits", cache))
    model = load_classifier("digits", cache)
    assert (model.resolution, model.num_classes) == (8, 10)
    assert model.test_accuracy == pytest.approx(result["test_accuracy"])
    assert not any(p.requires_grad for p in model.parameters())
    assert "test accuracy" in lines[-1]


def test_classifier_extractor_on_digits(digits_classifier):
    cache, result, _ = digits_classifier
    ds = digits()  # grey digits repeated to 3 channels
    ext = make_extractor("classifier:digits", cache_dir=cache)
    assert ext.tag == "classifier:digits" and ext.resize(8) == "none"
    idx = np.arange(len(ds))
    out = extract_dataset(ds, ext, idx, batch_size=512)
    assert out["pool"].shape == (len(ds), 3 * 128) and out["logits"].shape == (len(ds), 3, 10)
    pred = classify_channels(out["logits"])
    assert (pred == pred[:, :1]).all()  # identical channels, identical predictions
    accuracy = (pred[:, 0] == ds.labels).mean()
    assert accuracy > 0.9  # train + test images
    # Frechet distance on its features separates classes: 0s vs 1s is far larger than two halves of 0s
    f = out["pool"].double().numpy()
    zeros, ones = f[ds.labels == 0], f[ds.labels == 1]
    assert frechet_distance(zeros, ones) > 10 * frechet_distance(zeros[::2], zeros[1::2])


def test_stacked_digits_channels_are_classified(digits_classifier):
    cache, _, _ = digits_classifier
    ds = stacked_digits(num_images=600, seed=3)
    ext = ClassifierExtractor("digits", cache_dir=cache)
    out = extract_dataset(ds, ext, np.arange(len(ds)), batch_size=256)
    labels = stacked_labels(classify_channels(out["logits"]))
    assert (labels == ds.labels).mean() > 0.75  # ~accuracy^3


def test_resize_modes_and_errors(untrained_classifier):
    cache, name = untrained_classifier
    ext = ClassifierExtractor(name, cache_dir=cache)
    assert ext.resize(8) == "none"
    assert ext.resize(12) == "center-crop-8"  # undoes 2 px of zero padding per side
    assert ext.resize(9) == "bilinear-8"
    x = torch.zeros(2, 3, 12, 12, dtype=torch.uint8)
    x[..., 2:10, 2:10] = 200
    crop = ext(x)["pool"]
    torch.testing.assert_close(crop, ext(torch.full((2, 3, 8, 8), 200, dtype=torch.uint8))["pool"])
    with pytest.raises(ConfigError, match="needs images"):
        ext.resize(None)
    with pytest.raises(DataError, match="gan-zoo-train-classifier dataset=missing"):
        ClassifierExtractor("missing", cache_dir=cache)
    for bad in ("vgg", "classifier", "classifier:../x"):
        with pytest.raises(ConfigError, match="metrics.extractor"):
            parse_spec(bad)


def test_architecture_accepts_8_28_32_px():
    for res in (8, 28, 32):
        model = DigitClassifier(10, res).eval()
        assert model(torch.zeros(2, 1, res, res, dtype=torch.uint8)).shape == (2, 10)
    assert sum(p.numel() for p in DigitClassifier(10, 28).parameters()) < 150_000


def test_cache_dir_default_and_env(monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_ZOO_CACHE", str(tmp_path / "env"))
    assert default_cache_dir() == tmp_path / "env"
    assert default_cache_dir(tmp_path / "x") == tmp_path / "x"
    monkeypatch.delenv("GAN_ZOO_CACHE")
    assert str(default_cache_dir()).endswith(".cache/gan_zoo")


def test_cli_errors_are_one_line(capsys):
    assert main(["dataset=cifar10"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: dataset=cifar10: choose one of") and "\n" not in err
    assert main(["dataset=digits", "epochz=3"]) == 2
    assert "epochz=3" in capsys.readouterr().err
    assert main(["dataset=digits", "epochs=many"]) == 2
    assert "epochs=many: not a number" in capsys.readouterr().err
    assert main(["--help"]) == 0


def test_data_reference_is_the_metric_ceiling(digits_classifier, tmp_path):
    """Real stacked digits through the trained classifier cover all 1000 modes with a KL near the finite-sample
    floor (26,000 uniform draws over 1000 modes give about 0.02 nats); the budget report prints that line from a
    run's own config and logged metric, and says why when it cannot."""
    from omegaconf import OmegaConf

    from gan_zoo.metrics.modes import dataset_mode_metrics
    from gan_zoo.report.budget import data_reference
    from gan_zoo.report.runs import Run

    cache, _, _ = digits_classifier
    ext = ClassifierExtractor("digits", cache_dir=cache)
    ref = dataset_mode_metrics(stacked_digits(num_images=26_000, seed=0), ext, 26_000)
    assert ref["modes"] == 1000 and 0.01 < ref["kl"] < 0.05, ref
    with pytest.raises(ConfigError, match="needs 26000 images"):
        dataset_mode_metrics(stacked_digits(num_images=500, seed=0), ext, 26_000)

    cfg = OmegaConf.create({"dataset": {"_target_": "gan_zoo.data.digits.stacked_digits", "num_images": 3000},
                            "metrics": {"cache_dir": cache}})
    entry = {"metric": "modes[classifier:digits]", "value": 700.0, "kimg": 30.0, "n": 2600,
             "extractor": "classifier:digits"}
    line = data_reference([Run(tmp_path, cfg=cfg, metrics=[entry])])
    assert "2600 real images of stacked_digits, classifier:digits" in line and "1000 modes" not in line, line
    assert "not computed" in data_reference([Run(tmp_path, cfg=cfg, metrics=[])])
    too_few = OmegaConf.merge(cfg, {"dataset": {"num_images": 1000}})
    assert "not computed (the data reference needs 2600 images" in data_reference(
        [Run(tmp_path, cfg=too_few, metrics=[entry])])
