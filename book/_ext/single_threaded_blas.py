"""Run the book's notebooks with single-threaded linear algebra.

The chapters multiply small matrices (a few hundred rows at most) many thousands of times.
For such sizes a multi-threaded BLAS spends more time handing work between threads than
doing it, and on a busy machine (a CI runner, a laptop running tests) it can be many times
slower than one thread. One thread also makes every executed number reproducible bit for bit,
whatever the machine's core count.

Notebook kernels inherit the environment of the build, so setting the variables here, before
any notebook runs, is enough. A value already set in the environment is left alone.
"""

from __future__ import annotations

import os

from sphinx.application import Sphinx

__version__ = "1.0.0"

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "OMP_NUM_THREADS")


def setup(app: Sphinx) -> dict:
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, "1")
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
