"""The shipped digits data: verified, scaled, split the same way everywhere."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from autograder.datasets import DIGITS_FILE, DatasetError, load_digits


def test_digits_are_scaled_labelled_and_split_1197_300_300():
    digits = load_digits()
    parts = (digits.train, digits.validation, digits.test)
    assert [len(p.y) for p in parts] == [1197, 300, 300]
    for part in parts:
        assert part.X.dtype == np.float64 and part.X.shape == (len(part.y), 64)
        assert part.X.min() == 0.0 and part.X.max() == 1.0
        assert part.y.dtype == np.int64 and set(part.y.tolist()) == set(range(10))
    # together, the parts hold exactly the file's rows: none lost, none repeated
    with gzip.open(DIGITS_FILE, "rt") as f:
        table = np.loadtxt(f, delimiter=",")
    raw = np.column_stack([table[:, :-1] / 16.0, table[:, -1]])
    split = np.column_stack([np.concatenate([p.X for p in parts]), np.concatenate([p.y for p in parts])])
    assert np.array_equal(raw[np.lexsort(raw.T)], split[np.lexsort(split.T)])


def test_the_split_is_the_same_on_every_call():
    first, second = load_digits(), load_digits()
    assert np.array_equal(first.validation.X, second.validation.X)
    assert np.array_equal(first.test.y, second.test.y)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="missing"):
        load_digits(tmp_path / "digits.csv.gz")


def test_a_changed_file_fails_its_checksum(tmp_path):
    copy = tmp_path / "digits.csv.gz"
    with gzip.open(DIGITS_FILE, "rb") as source, gzip.open(copy, "wb") as target:
        data = bytearray(source.read())
        data[0:1] = b"9"  # one pixel changed
        target.write(bytes(data))
    with pytest.raises(DatasetError, match="SHA-256"):
        load_digits(copy)


def test_a_truncated_file_fails_its_checksum(tmp_path):
    copy = tmp_path / "digits.csv.gz"
    shutil.copy(DIGITS_FILE, copy)
    copy.write_bytes(copy.read_bytes()[:1000])
    with pytest.raises(DatasetError, match="corrupted"):
        load_digits(copy)
