"""The data sets the course ships, verified before use."""

from __future__ import annotations

import gzip
import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"
DIGITS_FILE = DATA / "digits.csv.gz"
DIGITS_SHA256 = "09f66e6debdee2cd2b5ae59e0d6abbb73fc2b0e0185d2e1957e9ebb51e23aa22"
SPLIT_SEED = 4
VALIDATION_SIZE = TEST_SIZE = 300


class DatasetError(Exception):
    """A data file is missing or is not the file the course ships."""


@dataclass(frozen=True)
class Split:
    """Features (N, 64) float64 in [0, 1] and labels (N,) int64 of one part of the data."""

    X: np.ndarray
    y: np.ndarray


@dataclass(frozen=True)
class Digits:
    train: Split
    validation: Split
    test: Split


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def load_digits(path: str | Path = DIGITS_FILE) -> Digits:
    """The UCI handwritten digits (1,797 8x8 images), split 1,197 / 300 / 300.

    The split is fixed: the same samples land in the same part on every machine.
    Raises DatasetError when the file is missing or its checksum does not match.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(
            f"the digits data file is missing: {path}. It ships with the course package "
            "(autograder/data/digits.csv.gz); reinstall the package or restore the file from the repository."
        )
    digest = sha256(path)
    if digest != DIGITS_SHA256:
        raise DatasetError(
            f"{path} is not the course's digits file (SHA-256 {digest}, expected {DIGITS_SHA256}): "
            "it may be corrupted or replaced. Restore it from the repository."
        )
    with gzip.open(path, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    X, y = table[:, :-1] / 16.0, table[:, -1].astype(np.int64)
    order = np.random.default_rng(SPLIT_SEED).permutation(len(y))
    test, validation, train = np.split(order, [TEST_SIZE, TEST_SIZE + VALIDATION_SIZE])
    return Digits(*(Split(X[part], y[part]) for part in (train, validation, test)))
