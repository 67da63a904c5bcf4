"""The suite tests the tree it lives in: in-process imports and every child process (started through
tests/helpers.py) load this checkout's gan_zoo and its conf/, not an installed copy."""

from __future__ import annotations

import json
from pathlib import Path

import gan_zoo
from gan_zoo.paths import CONF_DIR
from tests.helpers import REPO, SRC, run_python


def test_in_process_gan_zoo_is_this_checkout():
    assert Path(gan_zoo.__file__).resolve() == SRC / "gan_zoo" / "__init__.py"
    assert CONF_DIR == (REPO / "conf").resolve()


def test_child_processes_import_this_checkout(tmp_path):
    """From a foreign working directory, as the CLI tests run them: the child's package, configs and probes."""
    probe = ("import json, gan_zoo, gan_zoo.paths, tests; print(json.dumps([gan_zoo.__file__, "
             "str(gan_zoo.paths.CONF_DIR), tests.__file__]))")
    done = run_python("-c", probe, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    package, conf, tests_package = json.loads(done.stdout)
    assert package == str(SRC / "gan_zoo" / "__init__.py")
    assert conf == str((REPO / "conf").resolve())
    assert tests_package == str(REPO / "tests" / "__init__.py")  # probes such as tests.ddp_probe import too
