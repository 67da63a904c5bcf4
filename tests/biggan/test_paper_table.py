"""BigGAN's Table 1 as data, and the CPU ablation rendered beside it by gan-zoo-report."""

import torch

from gan_zoo.paper_tables import PAPER_TABLES
from gan_zoo.report import main
from tests.conftest import compose_run
from tests.test_report import make_run, table_lines

FD = "fd[classifier:digits]"


def test_table1_rows_and_sizes():
    table = PAPER_TABLES["biggan_table1"]
    assert [r.row for r in table.rows] == [str(i) for i in range(1, 10)]
    assert table.value("8", "fd").text == "8.51" and table.row("8").values["is"].text == "99.31"
    assert table.value("1", "fid").text == "18.65" and table.row("4").values["is"].text == "76.85"
    assert (table.row("8").g_params_m, table.row("8").d_params_m) == (70.434, 87.982)  # = model=biggan/imagenet128


def test_ablation_rows_name_the_paper_rows():
    rows = {e: compose_run([f"experiment=biggan/ablation/{e}"]).table.row
            for e in ("r1_sagan", "r2_batch16", "r4_batch64", "r5_width", "r6_shared", "r7_skipz", "r8_ortho", "ndis1")}
    assert rows == {"r1_sagan": "1", "r2_batch16": "2", "r4_batch64": "4", "r5_width": "5", "r6_shared": "6",
                    "r7_skipz": "7", "r8_ortho": "8", "ndis1": "ndis1"}


def test_report_sets_the_cpu_rows_beside_table1(tmp_path, capsys):
    for seed, value in ((0, 100.0), (1, 120.0)):
        make_run(tmp_path, f"r8/{seed}", table="biggan_table1", row="8", seed=seed, state="finished",
                 points=[(FD, 8.0, value)], primary=FD, budget="cpu_biggan_ablation")
    make_run(tmp_path, "ndis1/0", table="biggan_table1", row="ndis1", seed=0, state="finished",
             points=[(FD, 8.0, 150.0)], primary=FD, budget="cpu_biggan_ablation", change="1 D step")
    assert main([str(tmp_path), "--table", "biggan_table1", "--out", str(tmp_path / "out")]) == 0
    text = capsys.readouterr().out
    lines = table_lines(text)
    row8 = next(line for line in lines if line.startswith("| 8 "))
    assert "110 ± " in row8 and "(n=2)" in row8 and "| 8.51 |" in row8
    assert any(line.startswith("| ndis1 | 1 D step | 150") for line in lines)
    assert any(line.startswith("| 1 ") and "missing" in line for line in lines)
    assert "Not FID" in text and "ImageNet 128" in text


def test_enlarged_digits_are_measured_like_the_8px_digits():
    import numpy as np

    from gan_zoo.data.digits import stacked_digits
    from gan_zoo.metrics.extractors import ClassifierExtractor, extract_dataset

    ext = ClassifierExtractor("digits")
    assert ext.resize(16) == ext.resize(32) == "bilinear-8"  # not a centre crop of the middle quarter
    small, big = stacked_digits(num_images=64, seed=2), stacked_digits(num_images=64, seed=2, resolution=16)
    a, b = (extract_dataset(d, ext, np.arange(64), 64)["pool"] for d in (small, big))
    assert torch.allclose(a, b, atol=1e-5)
