"""Where gan_zoo's configs live: ``conf/`` at the repository root (``GAN_ZOO_CONF`` overrides).

The package is installed editable (``pip install -e .``), as lightning-hydra-template projects are, so
the configs, experiments and sweeps stay beside the code where researchers edit them.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
CONF_DIR = Path(os.environ.get("GAN_ZOO_CONF", REPO_ROOT / "conf")).resolve()
