"""The set-up every lesson shares, in one import::

    from course import *          # QUICK, mg, np, plt, layers, optim; seeds fixed
                                  # check, solution, hint: the exercises

* finds ``minigrad`` in the checkout this folder sits in when it is not installed;
* ``QUICK`` is True unless ``MINIGRAD_FULL=1`` (small settings so the test suite
  can execute every notebook);
* fixes NumPy's and minigrad's seeds (0) and sets readable plotting defaults.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

QUICK: bool = os.environ.get("MINIGRAD_FULL") != "1"

try:
    import minigrad as mg
except ImportError:  # not installed: use the checkout this folder lives in
    _root = next(p for p in [Path(__file__).resolve().parent, *Path(__file__).resolve().parents]
                 if (p / "minigrad" / "__init__.py").exists())
    sys.path.insert(0, str(_root))
    import minigrad as mg

import layers  # noqa: E402
import matplotlib  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import optim  # noqa: E402

if str(Path(__file__).resolve().parent) not in sys.path:   # run as a script from src/
    sys.path.insert(0, str(Path(__file__).resolve().parent))
from exercises import check, hint, solution  # noqa: E402

__all__ = ["QUICK", "mg", "np", "plt", "layers", "optim", "seed_everything",
           "check", "solution", "hint"]


def seed_everything(seed: int = 0) -> None:
    """Seed NumPy's global generator and every minigrad backend."""
    np.random.seed(seed)
    mg.manual_seed(seed)


matplotlib.rcParams.update({
    "figure.dpi": 100, "axes.grid": True, "grid.alpha": 0.3,
    "axes.titlesize": 11, "axes.labelsize": 10, "legend.fontsize": 9,
    "xtick.labelsize": 9, "ytick.labelsize": 9,
})
seed_everything(0)
print("minigrad", mg.__version__, "| quick mode" if QUICK else "| full mode")
