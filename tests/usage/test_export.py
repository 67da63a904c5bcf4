"""gan-zoo-export: the torch.export file runs in a Python where gan_zoo cannot be imported, and reproduces
gan_zoo.load's images to 1e-6; gan_zoo.load opens it again."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import gan_zoo
from gan_zoo.errors import GanZooError
from gan_zoo.export import main
from tests.usage.conftest import C_DIM

# The child: `python -S` (no site: the venv's .pth files, gan_zoo's editable install among them, are never
# read), torch's own site dir as the only extra path, PYTHONPATH unset, cwd outside the checkout.
CHILD = r"""
import importlib.util, json, sys
sys.path.append(sys.argv[1])
assert importlib.util.find_spec("gan_zoo") is None, "gan_zoo is importable in the child"
import torch
extra = {"gan_zoo_meta.json": "", "gan_zoo_config.json": ""}
G = torch.export.load(sys.argv[2], extra_files=extra).module()
meta, config = json.loads(extra["gan_zoo_meta.json"]), json.loads(extra["gan_zoo_config.json"])
z = torch.randn(10, meta["z_dim"], generator=torch.Generator().manual_seed(42))
labels = torch.arange(10) % meta["c_dim"]
with torch.no_grad():
    x = G(z, torch.nn.functional.one_hot(labels, meta["c_dim"]).float())
torch.save({"x": x, "meta": meta, "model": config["model"]["name"], "gan_zoo": "gan_zoo" in sys.modules},
           sys.argv[3])
"""


@pytest.fixture(scope="module", params=["r3gan", pytest.param("biggan", marks=pytest.mark.slow)])
def exported(request, tmp_path_factory):
    run = request.getfixturevalue("run_without_data" if request.param == "r3gan" else "biggan_run_without_data")
    out = tmp_path_factory.mktemp(f"export_{request.param}") / "G.pt2"
    main([str(run), "--out", str(out)])
    return run, out


def test_standalone_file_without_gan_zoo_reproduces_load(exported, tmp_path):
    run, path = exported
    torch_site = str(Path(torch.__file__).resolve().parents[1])
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["OMP_NUM_THREADS"] = "1"
    result = tmp_path / "out.pt"
    proc = subprocess.run([sys.executable, "-S", "-c", CHILD, torch_site, str(path), str(result)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    child = torch.load(result)
    assert not child["gan_zoo"]
    G = gan_zoo.load(run)
    assert child["meta"]["z_dim"] == G.z_dim and child["meta"]["c_dim"] == C_DIM
    assert child["model"] == G.config.model.name
    expected = G.sample(10, seed=42, output="float")
    assert child["x"].shape == expected.shape
    torch.testing.assert_close(child["x"], expected, rtol=0, atol=1e-6)


def test_gan_zoo_load_opens_the_export(exported):
    run, path = exported
    E, G = gan_zoo.load(path), gan_zoo.load(run)
    assert E.exported and (E.z_dim, E.c_dim, E.resolution, E.img_channels) == (G.z_dim, G.c_dim, G.resolution, 3)
    assert E.config.model.name == G.config.model.name and E.kimg == pytest.approx(G.kimg)
    # another batch size than the traced one, classes given
    torch.testing.assert_close(E.sample(7, classes=[3, 1, 0, 2, 3, 1, 0], seed=9, output="float"),
                               G.sample(7, classes=[3, 1, 0, 2, 3, 1, 0], seed=9, output="float"), rtol=0, atol=1e-6)


def test_foreign_zip_and_reexport_are_one_line_errors(exported, tmp_path, capsys):
    _, path = exported
    with pytest.raises(SystemExit):
        main([str(path)])
    assert "already an exported file" in capsys.readouterr().err
    plain = tmp_path / "plain.pt2"
    torch.export.save(torch.export.export(torch.nn.Linear(2, 2), (torch.zeros(1, 2),)), str(plain))
    with pytest.raises(GanZooError, match="not a readable gan_zoo checkpoint"):
        gan_zoo.load(plain)  # a torch.export file without gan_zoo's metadata is no export
