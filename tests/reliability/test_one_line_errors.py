"""Every mistake and fault a user meets on the command line is one line ``error: ...`` naming the key or file
and the fix, exit status 2, no traceback (GAN_ZOO_DEBUG=1 shows it); and each fix a message names works.

All command lines run as real console-script processes (forked from one probe process, so the imports are paid
once: tests/reliability/cli_probe.py)."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import torch

from tests.helpers import run_module, train_run
from tests.reliability.common import CLI, FAST, status

NO_GPU = not torch.cuda.is_available()


def unwritable(path: str) -> bool:
    try:
        os.mkdir(path)
    except OSError:
        return True
    os.rmdir(path)
    return False


def probe(tmp_path: Path, cases: list[dict]) -> list[dict]:
    spec = tmp_path / "cases.json"
    spec.write_text(json.dumps(cases))
    done = run_module("tests.reliability.cli_probe", str(spec), cwd=tmp_path, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def error_line(result: dict) -> str:
    """The one ``error:`` line; nothing else on stderr but Python warnings."""
    lines = [x for x in result["stderr"].splitlines() if x.strip()]
    assert "Traceback" not in result["stderr"], result["stderr"][-3000:]
    errors = [x for x in lines if x.startswith("error: ")]
    others = [x for x in lines if not x.startswith("error: ") and "Warning" not in x and not x.startswith("  ")]
    assert len(errors) == 1 and not others, result["stderr"][-3000:]
    assert result["rc"] == 2, result
    return errors[0]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("trained") / "run"
    train_run([*FAST, "total_kimg=0.016"], run)
    return run


def test_messages_are_one_line_with_exit_2(tmp_path, trained):
    runs = tmp_path / "runs"
    train = ["train", *CLI, f"paths.runs_dir={runs}", "total_kimg=0.008"]
    truncated = tmp_path / "truncated"
    shutil.copytree(trained, truncated)
    ckpt = truncated / "checkpoints" / "last.ckpt"
    ckpt.write_bytes(ckpt.read_bytes()[:4096])
    broken = tmp_path / "broken"
    shutil.copytree(trained, broken)
    (broken / "config.yaml").write_text("name: [unclosed\n")
    mismatched = tmp_path / "mismatched"
    shutil.copytree(trained, mismatched)
    config_before = (mismatched / "config.yaml").read_bytes()
    foreign = tmp_path / "foreign"
    shutil.copytree(trained, foreign)
    foreign_ckpt = foreign / "checkpoints" / "last.ckpt"
    state = torch.load(foreign_ckpt, weights_only=False)
    key = next(k for k in state["state_dict"] if k.startswith("G_ema.") and k.endswith("weight"))
    state["state_dict"][key] = torch.zeros(3, 3)  # another model's weights
    torch.save(state, foreign_ckpt)
    home = tmp_path / "home"
    home.mkdir()
    cases = {  # name: (argv, env, what the line must say)
        "missing option": (["train", *CLI, "dataset=nope"], {}, "dataset=nope: Could not find 'dataset/nope' in conf/"),
        "override typo": ([*train, "total_kimgg=1"], {}, "unknown key total_kimgg: did you mean total_kimg?"),
        "added typo": ([*train, "+total_kimgg=1"], {}, "did you mean total_kimg?"),
        "nested typo": ([*train, "callbacks.checkpoint.every_kimgg=3"], {},
                        "did you mean callbacks.checkpoint.every_kimg?"),
        "unparsable": ([*train, "batch_size=[1"], {}, "cannot parse an override"),
        "unquoted sweep path": (["train", "resume=runs/sweeps/x/budget=cpu_long,seed=0"], {},
                                "for Hydra too, e.g. \"resume='runs/sweeps/"),
        "group twice": ([*train, "+dataset=toy2d_grid"], {}, "dataset is already chosen"),
        "negative seed": ([*train, "seed=-1"], {}, "seed must be an integer >= 0 (got -1)"),
        "zero images": ([*train, "dataset.num_points=0"], {}, "dataset.num_points must be a positive integer"),
        "non-integer count": ([*train, "callbacks.samples.num_samples=2.5"], {},
                              "callbacks.samples.num_samples must be a positive integer (got 2.5)"),
        "bad interpolation": ([*train, "dataset.seed=${nope}"], {}, "dataset.seed: Interpolation key 'nope'"),
        "missing resume": (["train", f"resume={tmp_path / 'nowhere'}"], {}, "no checkpoint at"),
        "truncated resume": (["train", f"resume={truncated}"], {}, f"{ckpt} is not a readable gan_zoo checkpoint"),
        "truncated eval": (["eval", str(truncated)], {}, f"{ckpt} is not a readable gan_zoo checkpoint"),
        "mismatched eval": (["eval", str(foreign)], {}, f"{foreign_ckpt}: its G_ema does not match"),
        "broken config.yaml": (["train", f"resume={broken}"], {}, f"{broken / 'config.yaml'} is unreadable"),
        "resume key of the run": (["train", f"resume={mismatched}", "model.generator.width=64"], {},
                                  "write +model.generator.width=64"),
        "mismatched": (["train", f"resume={mismatched}", "+model.generator.width=64"], {},
                       "does not match the model of this config"),
        "wandb without key": ([*train, "logger=wandb", "logger.wandb.mode=online"],
                              {"HOME": str(home), "WANDB_API_KEY": ""}, "or set logger.wandb.mode=offline"),
        "wandb unreachable": ([*train, "logger=wandb", "logger.wandb.mode=online"],
                              {"HOME": str(home), "WANDB_API_KEY": "x" * 40, "WANDB_BASE_URL": "http://127.0.0.1:9"},
                              "127.0.0.1 is unreachable within 3s"),
    }
    if NO_GPU:
        cases["cuda train"] = ([*train, "trainer=gpu"], {}, "no CUDA GPU is visible here: use trainer=cpu")
        cases["cuda eval"] = (["eval", str(trained), "device=cuda", "metrics=[fid]"], {}, "device=cpu")
    if unwritable("/sys/gan_zoo_runs"):  # sysfs refuses new directories even to root
        cases["read-only runs dir"] = ([*train, "paths.runs_dir=/sys/gan_zoo_runs"], {},
                                       "cannot write /sys/gan_zoo_runs")
    results = probe(tmp_path, [{"argv": argv, "env": env} for argv, env, _ in cases.values()])
    for (name, (_, _, expected)), result in zip(cases.items(), results):
        line = error_line(result)
        assert expected in line, (name, line)
    assert not (tmp_path / "nowhere").exists(), "a resume path that does not exist is not created"
    assert (mismatched / "config.yaml").read_bytes() == config_before, "a refused resume changes nothing"
    assert status(mismatched)["state"] == "finished"


def test_debug_flag_shows_the_traceback(tmp_path):
    (result,) = probe(tmp_path, [{"argv": ["train", *CLI, "seed=-1"], "env": {"GAN_ZOO_DEBUG": "1"}}])
    assert result["rc"] != 0 and "Traceback" in result["stderr"] and "ConfigError" in result["stderr"]


def test_the_fixes_the_messages_name_work(tmp_path, trained):
    """Each message above that names a fix: applying it trains."""
    runs = tmp_path / "runs"
    train = ["train", *CLI, f"paths.runs_dir={runs}", "total_kimg=0.008"]
    resumed = tmp_path / "resumed"
    shutil.copytree(trained, resumed)
    cases = [
        [*train, "total_kimg=0.016"],                          # did you mean total_kimg?
        [*train, "callbacks.checkpoint.every_kimg=3"],         # did you mean callbacks.checkpoint.every_kimg?
        [*train, "dataset=toy2d_grid"],                        # dataset is already chosen: write dataset=<option>
        [*train, "logger=wandb", "logger.wandb.mode=offline"],  # use logger.wandb.mode=offline
        ["train", f"resume={resumed}", "+model.generator.activation=tanh", "total_kimg=0.024"],  # write +key=...
    ]
    if NO_GPU:
        cases.append([*train, "trainer=cpu"])
    results = probe(tmp_path, [{"argv": argv, "env": {"WANDB_SILENT": "true"}} for argv in cases])
    for argv, result in zip(cases, results):
        assert result["rc"] == 0, (argv, result["stderr"][-2000:])
    assert status(resumed)["state"] == "finished" and status(resumed)["kimg"] == pytest.approx(0.024)
    assert len([p for p in (runs / "run").iterdir() if (p / "status.json").is_file()]) == len(cases) - 1
