"""Fresh virtual environments, as a student would make them: only the packages named, and
Jupyter's kernel to run notebooks in them. Nothing of the repository is importable there."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

KERNEL = "fresh"


def fresh_environment(folder: Path, packages: list[str], python: str = sys.executable,
                      kernel: bool = True) -> Path:
    """A virtual environment in ``folder/venv`` made by ``python``, with ``packages`` (and
    ipykernel, registered as the kernel ``fresh`` under ``folder/jupyter``, if ``kernel``)
    installed by pip from the registry. Returns its Python."""
    subprocess.run([python, "-m", "venv", str(folder / "venv")], check=True, timeout=300)
    venv_python = folder / "venv" / "bin" / "python"
    install = subprocess.run(
        [str(venv_python), "-m", "pip", "install", "--quiet", *(["ipykernel"] if kernel else []), *packages],
        capture_output=True, text=True, timeout=900, cwd=folder)
    assert install.returncode == 0, install.stderr[-3000:]
    if kernel:
        spec = subprocess.run([str(venv_python), "-m", "ipykernel", "install", "--prefix",
                               str(folder / "jupyter"), "--name", KERNEL],
                              capture_output=True, text=True, timeout=300)
        assert spec.returncode == 0, spec.stderr[-2000:]
    return venv_python


def execute(environment: Path, notebook: nbformat.NotebookNode, folder: Path,
            monkeypatch: pytest.MonkeyPatch) -> nbformat.NotebookNode:
    """Run every cell of ``notebook`` in the kernel of the environment made in ``environment``,
    in ``folder``, errors kept as outputs; returns the notebook with its outputs."""
    from nbclient import NotebookClient

    monkeypatch.setenv("JUPYTER_PATH", str(environment / "jupyter" / "share" / "jupyter"))
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "MPLBACKEND")}
    env |= {"OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    client = NotebookClient(notebook, kernel_name=KERNEL, timeout=300, allow_errors=True,
                            resources={"metadata": {"path": str(folder)}})
    client.execute(env=env, cwd=str(folder))
    return notebook
