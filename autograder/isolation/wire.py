"""What crosses between the grader and the student's process, and how.

Messages are pickles framed by their length. Plain data travels by value: numbers,
strings, NumPy arrays and scalars of bool, integer, float or complex dtype (as an `Array`:
dtype, shape and bytes), lists, tuples, dicts and sets of those, and NumPy random generators
(as an `Rng`: the bit generator's name and state). Anything else stays in the process that
owns it and travels as a `Ref`.

The grader unpickles what the student's process sends with `load_untrusted`, which refuses
every class except `Ref`, `Array`, `Rng` and a few builtins, so no message can run code in the
grader; `decode` then rebuilds arrays from bytes (never from an object's buffer or array
interface), refuses nesting deeper than `Limits.nesting`, and turns each `Ref` into an inert
`Handle` that supports no operation at all: the grader never calls a method, a conversion or a
NumPy protocol on an object the student controls.

Two markers travel only from the grader to the student's process: `Iter` (a lent function
returned an iterator: here are its items) and `Same` (this part of the result *is* that
argument, so the student's code gets its own object back, updated, as with a real function).
"""

from __future__ import annotations

import contextlib
import io
import math
import os
import pickle
import re
import struct
from typing import Any, NamedTuple

import numpy as np

from autograder.isolation.protocol import ProtocolError
from autograder.limits import LIMITS

HEADER = struct.Struct(">Q")
ATOMS = (type(None), bool, int, float, complex, str, bytes)
PLAIN_DTYPE = re.compile(r"^[<>|=]?[biufc]\d{1,2}$")  # bool, integers, floats, complex
RANDOM_BITS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


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
        if not isinstance(self.dtype, str) or not PLAIN_DTYPE.match(self.dtype):
            raise ValueError(f"an array of dtype {str(self.dtype)[:20]!r} (only numbers cross)")
        dtype = np.dtype(self.dtype)
        if not isinstance(self.data, bytes):
            raise ValueError("an array without bytes")
        if self.shape is None:
            if len(self.data) != dtype.itemsize:
                raise ValueError("a scalar of the wrong size")
            return np.frombuffer(self.data, dtype=dtype)[0]
        if not isinstance(self.shape, tuple) or not all(type(n) is int and n >= 0 for n in self.shape):
            raise ValueError("an array with an invalid shape")
        if len(self.shape) > 32 or math.prod(self.shape) * dtype.itemsize != len(self.data):
            raise ValueError("an array whose shape does not match its bytes")
        return np.frombuffer(self.data, dtype=dtype).reshape(self.shape).copy()


class Rng(NamedTuple):
    """A NumPy random generator, by value: its bit generator's name and state."""

    bits: str
    state: dict

    @classmethod
    def of(cls, generator: np.random.Generator) -> Rng:
        return cls(type(generator.bit_generator).__name__, generator.bit_generator.state)

    def value(self) -> np.random.Generator:
        if self.bits not in RANDOM_BITS or not isinstance(self.state, dict):
            raise ValueError("a random generator of an unknown kind")
        bit_generator = getattr(np.random, self.bits)()
        bit_generator.state = self.state  # NumPy validates every field
        return np.random.Generator(bit_generator)


class Both(NamedTuple):
    """A student's container of its own class (a namedtuple cache, a dict subclass): the
    grader reads it as the plain container it is, and passing it back gives the student's code
    its own object again."""

    ref: Ref
    plain: Any


class HeldTuple(tuple):
    """The grader's copy of a student's tuple subclass (see `Both`): a plain tuple here."""

    def __new__(cls, items: Any = (), ref: Ref | None = None):
        value = super().__new__(cls, items)
        value.ref = ref
        return value


class HeldList(list):
    """The grader's copy of a student's list subclass (see `Both`)."""

    def __init__(self, items: Any = (), ref: Ref | None = None):
        super().__init__(items)
        self.ref = ref


class HeldDict(dict):
    """The grader's copy of a student's dict subclass (see `Both`)."""

    def __init__(self, items: Any = (), ref: Ref | None = None):
        super().__init__(items)
        self.ref = ref


HELD = {tuple: HeldTuple, list: HeldList, dict: HeldDict}
HELD_TYPES = tuple(HELD.values())


class Iter(NamedTuple):
    """The items of an iterator a lent function returned (grader -> student only)."""

    items: list


class Same(NamedTuple):
    """This part of a lent function's result is its argument ``key`` (grader -> student only)."""

    key: int | str


class Handle:
    """The grader's stand-in for an object that lives in the student's process.

    It supports nothing: no attribute, no operator, no conversion, no NumPy protocol. The
    grader can only pass it back to the student's process, or name its type in feedback.
    """

    __slots__ = ("ref",)

    def __init__(self, ref: Ref):
        object.__setattr__(self, "ref", ref)

    @property
    def type_name(self) -> str:
        name = self.ref.type_name
        return name if isinstance(name, str) and name.isidentifier() and len(name) <= 40 else "object"

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a handle cannot be changed")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Handle) and other.ref == self.ref

    def __hash__(self) -> int:
        return hash(self.ref)

    def __repr__(self) -> str:
        return f"<{self.type_name} object>"


# The only globals a message from the student's process may name.
SAFE_GLOBALS = {("builtins", name) for name in ("complex", "set", "frozenset")} | {
    (__name__, "Ref"), (__name__, "Array"), (__name__, "Rng"), (__name__, "Both")}


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

    def __init__(self, read_fd: int, write_fd: int, loads=pickle.loads, max_message: int | None = None):
        self.read_fd, self.write_fd, self.loads = read_fd, write_fd, loads
        self.max_message = max_message or LIMITS.message_bytes
        self.reader = open(read_fd, "rb", buffering=1 << 16, closefd=False)  # noqa: SIM115

    def send(self, message: Any) -> None:
        data = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
        view = memoryview(HEADER.pack(len(data)) + data)
        while view:
            written = os.write(self.write_fd, view)
            view = view[written:]

    def receive(self) -> Any:
        (size,) = HEADER.unpack(self._read(HEADER.size))
        if size > self.max_message:
            raise ProtocolError(f"sent a message of {size / 2**20:.1f} MB (the limit is "
                                f"{self.max_message / 2**20:.1f} MB)", refused=True)
        data = self._read(size)
        try:
            return self.loads(data)
        except RecursionError:
            raise ProtocolError("sent something nested too deeply to be read", refused=True) from None
        except Exception as error:  # a malformed or refused pickle
            raise ProtocolError(f"sent something that is not plain data ({str(error)[:200]})",
                                refused=True) from None

    def _read(self, size: int) -> bytes:
        data = self.reader.read(size)  # buffered: a small message arrives in one system call
        if len(data) < size:
            raise ProtocolError("ended")
        return data

    def close(self) -> None:
        with contextlib.suppress(OSError, ValueError):
            self.reader.close()
        for fd in (self.read_fd, self.write_fd):
            with contextlib.suppress(OSError):
                os.close(fd)


def is_plain_array(value: Any) -> bool:
    return isinstance(value, np.ndarray | np.generic) and value.dtype.kind in "biufc"


def encode(value: Any, export, _active: set | None = None) -> Any:
    """``value`` with everything that is not plain data replaced by a `Ref` (``export(obj)``).

    Runs in the process that owns ``value``: for the student's process, on its own objects.
    """
    kind = type(value)
    if kind in ATOMS or kind is Ref or kind is Same:
        return value
    if kind is np.ndarray and value.dtype.kind in "biufc":  # the common cases first
        return Array.of(value)
    if kind in (list, tuple, dict, set, frozenset):
        return _encode_container(value, kind, export, _active)
    if isinstance(value, HELD_TYPES) and value.ref is not None:  # back to the student's own object
        return value.ref
    if kind is Iter:
        return Iter([encode(item, export, _active) for item in value.items])
    if is_plain_array(value):
        return Array.of(value)
    if isinstance(value, np.random.Generator) and type(value.bit_generator).__name__ in RANDOM_BITS:
        return Rng.of(value)
    for base in (bool, int, float, complex, str, bytes):  # subclasses travel as their base
        if isinstance(value, base) and not isinstance(value, np.generic):
            return base(value)
    base = next((t for t in (list, tuple, dict) if isinstance(value, t)), None)
    if base is not None and kind not in HELD_TYPES:
        return Both(export(value), encode(base(value), export, _active))  # a namedtuple, say
    base = next((t for t in (set, frozenset) if isinstance(value, t)), None)
    if base is not None:
        return _encode_container(base(value), base, export, _active)
    return export(value)


def _encode_container(value: Any, kind: type, export, active: set | None) -> Any:
    active = active if active is not None else set()
    if id(value) in active:  # a structure that contains itself stays behind
        return export(value)
    active.add(id(value))
    try:
        if kind is dict:
            return {encode(k, export, active): encode(v, export, active) for k, v in value.items()}
        return kind([encode(item, export, active) for item in value])
    finally:
        active.discard(id(value))


def decode(value: Any, resolve, depth: int | None = None) -> Any:
    """The inverse of `encode`: arrays and generators rebuilt, every `Ref` ``resolve(ref)``.

    Raises ValueError for anything else (a forged message) or nesting deeper than ``depth``.
    """
    depth = LIMITS.nesting if depth is None else depth
    if depth < 0:
        raise ValueError(f"a result nested more than {LIMITS.nesting} levels deep")
    kind = type(value)
    if kind in ATOMS:
        return value
    if kind is Array:
        return value.value()
    if kind is Rng:
        return value.value()
    if kind is Ref:
        return resolve(value)
    if kind is Both:
        if type(value.ref) is not Ref or type(value.plain) not in HELD:
            raise ValueError("a container of the wrong form")
        return HELD[type(value.plain)](decode(value.plain, resolve, depth - 1), ref=value.ref)
    if kind is Iter:  # only ever sent by the grader
        return Iter([decode(item, resolve, depth - 1) for item in value.items])
    if kind is Same:
        return value
    if kind in (list, tuple, set, frozenset):
        return kind(decode(item, resolve, depth - 1) for item in value)
    if kind is dict:
        return {decode(k, resolve, depth - 1): decode(v, resolve, depth - 1) for k, v in value.items()}
    raise ValueError(f"a {kind.__name__}")
