"""gan-zoo-sample: grids (one row per class), interpolations (lerp/slerp, PNG + GIF), per-class folders and an
npz that torch-fidelity's own input path reads (offline, with a tiny registered feature extractor)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
import torch_fidelity
from PIL import Image
from torch_fidelity.feature_extractor_base import FeatureExtractorBase
from torch_fidelity.registry import FEATURE_EXTRACTORS_REGISTRY, register_feature_extractor
from torchvision.io import read_image

import gan_zoo
from gan_zoo.data.base import to_uint8
from gan_zoo.sample import NpzImages, lerp, main, slerp
from tests.usage.conftest import C_DIM
from tests.usage.test_load import grid_cells


def test_slerp_and_lerp_against_hand_values():
    a, b = torch.tensor([[1.0, 0.0, 0.0]]), torch.tensor([[0.0, 2.0, 0.0]])
    t = torch.tensor([0.0, 0.5, 1.0])
    s = slerp(a, b, t)[0]
    # the angle is 90 deg: at t=1/2 the weights are sin(pi/4)/sin(pi/2) = 1/sqrt(2) each
    torch.testing.assert_close(s[1], torch.tensor([1 / math.sqrt(2), 2 / math.sqrt(2), 0.0]))
    torch.testing.assert_close(s[[0, 2]], torch.cat([a, b]))
    torch.testing.assert_close(lerp(a, b, t)[0, 1], torch.tensor([0.5, 1.0, 0.0]))
    torch.testing.assert_close(slerp(a, 3 * a, t)[0], lerp(a, 3 * a, t)[0])  # parallel: falls back to lerp
    z = torch.randn(64, 512, generator=torch.Generator().manual_seed(0))
    mid_s, mid_l = slerp(z[:32], z[32:], torch.tensor([0.5]))[:, 0], lerp(z[:32], z[32:], torch.tensor([0.5]))[:, 0]
    # Gaussian z in 512-d are nearly orthogonal: lerp's midpoint shrinks to ~1/sqrt(2) of the norm, slerp's not
    assert 0.65 < (mid_l.norm(dim=1) / z[:32].norm(dim=1)).mean() < 0.76
    assert 0.95 < (mid_s.norm(dim=1) / z[:32].norm(dim=1)).mean() < 1.05


def test_grid_one_row_per_class_same_latent_per_column(run_without_data, tmp_path, capsys):
    out = tmp_path / "grid.png"
    main(["grid", str(run_without_data), "--columns", "5", "--seed", "7", "--out", str(out)])
    assert capsys.readouterr().out.strip() == str(out)
    cells = grid_cells(out, C_DIM * 5, 5, 8).view(C_DIM, 5, 3, 8, 8)
    G = gan_zoo.load(run_without_data)
    for k in range(C_DIM):  # row k: class k, the 5 latents of seed 7
        assert torch.equal(cells[k], G.sample(5, classes=k, seed=7))


@pytest.mark.parametrize("mode", ["lerp", "slerp"])
def test_interpolation_strip_and_gif(run_without_data, tmp_path, mode):
    out = tmp_path / f"{mode}.png"
    main(["interp", str(run_without_data), "--mode", mode, "--steps", "6", "--rows", "2", "--class", "1",
          "--gif", "--out", str(out)])
    cells = grid_cells(out, 12, 6, 8).view(2, 6, 3, 8, 8)
    G = gan_zoo.load(run_without_data)
    ends = G.sample(4, classes=1, seed=0)  # row r goes from latent 2r to latent 2r+1
    assert torch.equal(cells[:, 0], ends[0::2]) and torch.equal(cells[:, -1], ends[1::2])
    z = G.latents(4, seed=0)
    mid = (lerp if mode == "lerp" else slerp)(z[0:1], z[1:2], torch.linspace(0, 1, 6))[0, 2:3]
    assert torch.equal(cells[0, 2], to_uint8(G.synthesize(mid, torch.tensor([1])))[0])
    gif = Image.open(out.with_suffix(".gif"))
    assert gif.n_frames == 6 and gif.size == (1 + 33, 1 + 2 * 33)  # one column of 2 rows per frame


def test_folders_are_torch_fidelity_directory_input(run_without_data, tmp_path):
    main(["folders", str(run_without_data), "--per-class", "3", "--out", str(tmp_path / "f")])
    folders = sorted(p.name for p in (tmp_path / "f").iterdir())
    assert folders == [f"{k:04d}" for k in range(C_DIM)]
    assert all(len(list((tmp_path / "f" / f).glob("*.png"))) == 3 for f in folders)
    G = gan_zoo.load(run_without_data)
    first = read_image(str(tmp_path / "f" / "0001" / "0000001.png"))  # sample 1 has class 1
    assert torch.equal(first, G.sample(12, seed=0)[1])


class PixelStats(FeatureExtractorBase):
    """A tiny offline extractor: per-channel mean and standard deviation of each 4x4 quadrant (24-d)."""

    def __init__(self, name, features_list, **kwargs):
        super().__init__(name, features_list)

    @staticmethod
    def get_provided_features_list():
        return ("stats",)

    @staticmethod
    def get_default_feature_layer_for_metric(metric):
        return "stats"

    @staticmethod
    def can_be_compiled():
        return False

    @staticmethod
    def get_dummy_input_for_compile():
        return None

    def forward(self, x):
        x = x.float() / 255
        q = x.unfold(2, 4, 4).unfold(3, 4, 4).flatten(-2)  # [N, 3, 2, 2, 16]
        return (torch.cat([q.mean(-1).flatten(1), q.std(-1).flatten(1)], 1),)


@pytest.fixture
def pixel_stats():
    if "gan-zoo-test-pixel-stats" not in FEATURE_EXTRACTORS_REGISTRY:
        register_feature_extractor("gan-zoo-test-pixel-stats", PixelStats)
    return dict(feature_extractor="gan-zoo-test-pixel-stats", feature_layer_fid="stats", fid=True, cuda=False,
                verbose=False, batch_size=16, cache=False)


def test_npz_is_read_by_torch_fidelity(run_without_data, tmp_path, pixel_stats):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    main(["npz", str(run_without_data), "-n", "48", "--out", str(a)])
    main(["npz", str(run_without_data), "-n", "48", "--seed", "1", "--out", str(b)])
    main(["folders", str(run_without_data), "--per-class", "12", "--out", str(tmp_path / "f")])
    with np.load(a) as data:
        assert data["arr_0"].shape == (48, 8, 8, 3) and data["arr_0"].dtype == np.uint8
        assert data["arr_1"].tolist() == [i % C_DIM for i in range(48)]
    same = torch_fidelity.calculate_metrics(input1=NpzImages(a), input2=str(tmp_path / "f"),
                                            samples_find_deep=True, **pixel_stats)
    other = torch_fidelity.calculate_metrics(input1=NpzImages(a), input2=NpzImages(b), **pixel_stats)
    # the npz and the PNG folder hold the same 48 samples; another seed does not
    assert abs(same["frechet_inception_distance"]) < 1e-6 < other["frechet_inception_distance"]


def test_bad_input_is_one_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["grid", str(tmp_path)])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: no checkpoint at") and "\n" not in err
