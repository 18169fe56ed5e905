"""A build that prints what matters: progress, warnings and errors, not harmless noise.

* MyST and MyST-NB log their whole configuration (about 1,500 characters) at the start of
  every build: those two records are dropped.
* Every notebook the build executes starts a Jupyter kernel, and ipykernel warns that the
  kernel's connection to the build, on this machine's loopback, is not encrypted: the
  kernels get an IPython folder of their own (``.build/ipython``) whose kernel
  configuration drops that one message. Nothing else about the kernels changes.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sphinx.application import Sphinx

__version__ = "1.0.0"

ROOT = Path(__file__).resolve().parents[2]
IPYTHON_DIR = ROOT / ".build" / "ipython"
CONFIG_DUMPS = {"sphinx.myst_parser.sphinx_ext.main": "MdParserConfig",
                "sphinx.myst_nb.sphinx_ext": "NbParserConfig"}

KERNEL_CONFIG = '''\
# Written by book/_ext/quiet_build.py for the kernels the site's build starts.
import logging


class _LoopbackTcpNote(logging.Filter):
    def filter(self, record):
        return not str(record.msg).startswith("Kernel is running over TCP without encryption")


logging.getLogger("IPKernelApp").addFilter(_LoopbackTcpNote())
'''


class DropConfigurationDump(logging.Filter):
    """Drops the record that logs a parser's configuration object (``myst v...: ...``)."""

    def __init__(self, config_class: str) -> None:
        super().__init__()
        self.config_class = config_class

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args if isinstance(record.args, tuple) else ()
        return not any(type(arg).__name__ == self.config_class for arg in args)


def quiet_kernels() -> None:
    profile = IPYTHON_DIR / "profile_default"
    profile.mkdir(parents=True, exist_ok=True)
    config = profile / "ipython_kernel_config.py"
    if not config.is_file() or config.read_text(encoding="utf-8") != KERNEL_CONFIG:
        config.write_text(KERNEL_CONFIG, encoding="utf-8")
    os.environ["IPYTHONDIR"] = str(IPYTHON_DIR)  # kernels inherit the build's environment


def setup(app: Sphinx) -> dict:
    for name, config_class in CONFIG_DUMPS.items():
        logger = logging.getLogger(name)
        if not any(isinstance(f, DropConfigurationDump) for f in logger.filters):
            logger.addFilter(DropConfigurationDump(config_class))
    quiet_kernels()
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}
