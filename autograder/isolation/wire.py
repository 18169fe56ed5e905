"""What crosses between the grader and the student's process, and how.

Messages are pickles framed by their length. Plain data travels by value: numbers,
strings, NumPy arrays and scalars (as an `Array`: dtype, shape and bytes), and lists,
tuples, dicts and sets of them. Anything else (a function, a ``Value`` node, a generator)
stays where it lives and travels as a `Ref`; the other side gets a proxy whose operations
become requests.

The grader unpickles what the student's process sends with `load_untrusted`, which
refuses every class except a few builtins, `Ref` and `Array`, so no message can run code
in the grader.
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


class Array(NamedTuple):
    """A NumPy array or scalar of numbers, as plain bytes (``shape`` None for a scalar)."""

    dtype: str
    shape: tuple[int, ...] | None
    data: bytes

    @classmethod
    def of(cls, value: np.ndarray | np.generic) -> Array:
        shape = value.shape if isinstance(value, np.ndarray) else None
        return cls(value.dtype.str, shape, value.tobytes())

    def value(self) -> np.ndarray | np.generic:
        dtype = np.dtype(self.dtype)
        if dtype.hasobject:
            raise ValueError("an array of Python objects")
        array = np.frombuffer(self.data, dtype=dtype)
        if self.shape is None:
            return array[0]
        return array.reshape(tuple(int(n) for n in self.shape)).copy()


class ChannelClosed(Exception):
    """The other process is gone (or sent something that is not a message)."""


# The only globals a message from the student's process may name.
SAFE_GLOBALS = {
    ("builtins", name) for name in ("complex", "set", "frozenset", "slice", "range", "bytearray")
} | {(__name__, "Ref"), (__name__, "Array")}


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
        self.reader = open(read_fd, "rb", buffering=1 << 16, closefd=False)  # noqa: SIM115

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
        data = self.reader.read(size)  # buffered: a small message arrives in one system call
        if len(data) < size:
            raise ChannelClosed("ended")
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.reader.close()
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
        return Array.of(value)
    if by_value and isinstance(value, by_value):
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
    if isinstance(value, Array):
        return value.value()
    if type(value) in (list, tuple, set, frozenset):
        return type(value)(decode(item, resolve) for item in value)
    if type(value) is dict:
        return {decode(k, resolve): decode(v, resolve) for k, v in value.items()}
    return value
