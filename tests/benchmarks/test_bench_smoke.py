"""The benchmark scripts run in their CPU smoke mode (tiny 8 px preset, seconds), so they cannot rot."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
sys.path.insert(0, str(BENCH))

import bench_gpu  # noqa: E402
import bench_overhead  # noqa: E402
import bench_r3gan  # noqa: E402
import common  # noqa: E402


@pytest.fixture(autouse=True)
def _no_official(monkeypatch):
    monkeypatch.delenv("R3GAN_SRC", raising=False)
    monkeypatch.delenv("GAN_ZOO_GROUPED_CONV", raising=False)


def test_bench_r3gan_smoke_times_every_variant(tmp_path):
    out = tmp_path / "r3gan.json"
    record = bench_r3gan.main(["--smoke", "--out", str(out)])
    assert out.is_file()
    names = {"gan_zoo_d", "gan_zoo_g", "gan_zoo_d_no_penalty", "gan_zoo_plain_d", "gan_zoo_plain_g"}
    assert set(record["timings"]) == names  # no official_* without R3GAN_SRC
    for r in record["timings"].values():
        assert len(r["times_s"]) == 1 and r["min_s"] > 0
    assert "no ratio to the official code was measured" in record["note"]
    assert not any(k.startswith("official") for k in record["ratios"])
    assert record["ratios"]["penalty_cost_min"] > 0
    assert record["load_before"]["load_average"] and record["threads"] == 1


def test_bench_overhead_smoke_times_both_paths(tmp_path):
    out = tmp_path / "overhead.json"
    record = bench_overhead.main(["--preset", "tiny8", "--batch", "4", "--iters", "4", "--reps", "1",
                                  "--out", str(out)])
    assert out.is_file() and record["iters_per_run"] == 4
    assert record["lightning_min_s"] > 0 and record["bare_min_s"] > 0
    # the ratio is computed from the two timings, not written down
    assert record["overhead_median"] == round(record["lightning_median_s"] / record["bare_median_s"] - 1, 4)
    assert "lightning_end_of_run_s" in record
    with pytest.raises(SystemExit):
        bench_overhead.main(["--iters", "2"])


def test_bench_gpu_smoke_on_cpu(tmp_path):
    record = bench_gpu.main(["--smoke", "--out", str(tmp_path / "gpu.json")])
    assert record["device"].startswith("cpu")
    assert {"gan_zoo_grouped-off", "gan_zoo_grouped-all", "gan_zoo_cl_grouped-off"} <= set(record["timings"])
    assert all(r["error"] is None and r["img_per_s"] > 0 for r in record["timings"].values())


def test_official_source_that_is_not_r3gan_is_one_clear_line(tmp_path):
    with pytest.raises(SystemExit, match="R3GAN_SRC=.*no R3GAN/Networks.py"):
        common.import_official(tmp_path)


def test_alternate_runs_each_callable_in_turn():
    calls = []
    res = common.alternate({"a": lambda: calls.append("a"), "b": lambda: calls.append("b")}, reps=2, warmup=1)
    assert calls == ["a", "b"] * 3
    assert len(res["a"]["times_s"]) == 2 and res["a"]["min_s"] <= res["a"]["median_s"]
