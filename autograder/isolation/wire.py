"""What crosses between the grader and the student's process, and how.

Messages are pickles framed by their length. Plain data travels by value: numbers,
strings, NumPy arrays and scalars, and lists, tuples, dicts and sets of them. Anything
else (a function, a ``Value`` node, a generator) stays where it lives and travels as a
`Ref`; the other side gets a proxy whose operations become requests.

The grader unpickles what the student's process sends with `load_untrusted`, which
refuses every class except those plain data needs, so no message can run code in the
grader.
"""

from __future__ import annotations

import contextlib
import io
import os
import pickle
import struct
from typing import Any, NamedTuple

import numpy as np

MAX_MESSAGE = 256 * 2**20  # bytes; a bigger result is refused rather than read
HEADER = struct.Struct(">Q")

ATOMS = (type(None), bool, int, float, complex, str, bytes, type(Ellipsis))


class Ref(NamedTuple):
    """An object that stays in the process that owns it ("judge" or "worker")."""

    owner: str
    id: int
    type_name: str


class ChannelClosed(Exception):
    """The other process is gone (or sent something that is not a message)."""


# The only globals a message from the student's process may name.
SAFE_GLOBALS = {
    ("builtins", name) for name in ("complex", "set", "frozenset", "slice", "range", "bytearray")
} | {
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("numpy._core.numeric", "_frombuffer"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"),
    ("numpy.core.numeric", "_frombuffer"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    (__name__, "Ref"),
}


class _DataUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        if (module, name) not in SAFE_GLOBALS:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}")
        return super().find_class(module, name)


def load_untrusted(data: bytes) -> Any:
    """Unpickle ``data`` allowing plain data only (see the module docstring)."""
    return _DataUnpickler(io.BytesIO(data)).load()


class Channel:
    """Length-framed pickled messages over a pair of pipe file descriptors."""

    def __init__(self, read_fd: int, write_fd: int, loads=pickle.loads):
        self.read_fd, self.write_fd, self.loads = read_fd, write_fd, loads

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(HEADER.pack(len(data)) + data)
        while view:
            written = os.write(self.write_fd, view)
            view = view[written:]

    def receive(self) -> Any:
        (size,) = HEADER.unpack(self._read(HEADER.size))
        if size > MAX_MESSAGE:
            raise ChannelClosed(f"sent a message of {size / 2**20:.0f} MB (the limit is "
                                f"{MAX_MESSAGE / 2**20:.0f} MB)")
        try:
            return self.loads(self._read(size))
        except ChannelClosed:
            raise
        except Exception as error:  # a malformed or refused pickle
            raise ChannelClosed(f"sent something that is not plain data ({error})") from None

    def _read(self, size: int) -> bytes:
        chunks, left = [], size
        while left:
            chunk = os.read(self.read_fd, min(left, 1 << 20))
            if not chunk:
                raise ChannelClosed("ended")
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)

    def close(self) -> None:
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def is_plain_array(value: Any) -> bool:
    return isinstance(value, np.ndarray | np.generic) and not value.dtype.hasobject


def encode(value: Any, export, by_value: tuple[type, ...] = (), _active: set | None = None) -> Any:
    """``value`` with everything that is not plain data replaced by a `Ref`.

    Args:
        export: object -> Ref, for what stays behind (and for a proxy, the Ref it stands for).
        by_value: further types the receiver may unpickle as they are (the grader sends
            NumPy random generators to the student's process this way).
    """
    if type(value) in ATOMS:
        return value
    if is_plain_array(value):
        return value.view(np.ndarray) if isinstance(value, np.ndarray) else value
    if isinstance(value, np.dtype) or (by_value and isinstance(value, by_value)):
        return value
    for base in (bool, int, float, complex, str, bytes):  # subclasses travel as their base
        if isinstance(value, base) and not isinstance(value, np.generic):
            return base(value)
    if isinstance(value, list | tuple | dict | set | frozenset):
        _active = _active if _active is not None else set()
        if id(value) in _active:  # a structure that contains itself stays behind
            return export(value)
        _active.add(id(value))
        try:
            if isinstance(value, dict):
                return {encode(k, export, by_value, _active): encode(v, export, by_value, _active)
                        for k, v in value.items()}
            items = [encode(item, export, by_value, _active) for item in value]
        finally:
            _active.discard(id(value))
        base = next(t for t in (list, tuple, set, frozenset) if isinstance(value, t))
        return base(items)
    return export(value)


def decode(value: Any, resolve) -> Any:
    """The inverse of `encode`: every `Ref` becomes ``resolve(ref)``."""
    if isinstance(value, Ref):
        return resolve(value)
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(decode(item, resolve) for item in value)
    if type(value) is dict:
        return {decode(k, resolve): decode(v, resolve) for k, v in value.items()}
    if isinstance(value, np.ndarray) and value.dtype.hasobject:
        raise ChannelClosed("sent an array of Python objects")
    return value
