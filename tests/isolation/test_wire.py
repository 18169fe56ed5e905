"""What may cross from the student's process to the grader: plain data only, rebuilt from
bytes, never an object the grader would have to ask anything of."""

from __future__ import annotations

import os
import pickle
from collections import OrderedDict, namedtuple

import numpy as np
import pytest

from autograder.isolation.wire import (
    Array,
    Both,
    Handle,
    Iter,
    Ref,
    Rng,
    Same,
    decode,
    encode,
    load_untrusted,
)


def roundtrip(value, export=None):
    return decode(load_untrusted(pickle.dumps(encode(value, export), protocol=5)), resolve=Handle)


class Evil:
    def __reduce__(self):
        return os.system, ("echo pwned",)


def test_plain_data_travels_by_value():
    data = {"a": np.arange(6.0).reshape(2, 3).T, "b": [np.float64(2.5), 3, "x", None, (1, 2)],
            "c": {1.5, 2.5}, "d": np.array([True, False]), "e": np.int32(7), "f": 2 + 1j,
            "g": np.zeros((0, 3)), "h": b"raw"}
    loaded = roundtrip(data)
    assert np.array_equal(loaded["a"], data["a"]) and loaded["a"].flags.writeable
    assert loaded["b"] == data["b"] and type(loaded["b"][0]) is np.float64
    assert loaded["c"] == data["c"] and loaded["d"].dtype == bool and type(loaded["e"]) is np.int32
    assert loaded["f"] == 2 + 1j and loaded["g"].shape == (0, 3) and loaded["h"] == b"raw"


def test_random_generators_travel_as_their_state():
    rng = np.random.default_rng(3)
    rng.random(5)
    copy = roundtrip(rng)
    assert isinstance(copy, np.random.Generator) and copy is not rng
    assert copy.random() == rng.random()


def test_everything_else_stays_behind_as_a_reference():
    kept = []

    def export(value):
        kept.append(value)
        return Ref("worker", len(kept), type(value).__name__)

    Pair = namedtuple("Pair", "loss grads")
    cyclic: list = []
    cyclic.append(cyclic)
    sent = encode([Pair(1.5, {"W": np.ones(2)}), OrderedDict(k=True), len, cyclic, np.array([None])], export)
    # a container of the student's own class travels as both: plain items, and a reference back
    assert type(sent[0]) is Both and sent[0].ref == Ref("worker", 1, "Pair") and sent[0].plain[0] == 1.5
    assert type(sent[1]) is Both and sent[1].plain == {"k": True}
    assert sent[2] == Ref("worker", 3, "builtin_function_or_method")
    assert sent[3] == [Ref("worker", 4, "list")] and kept[3] is cyclic
    assert sent[4] == Ref("worker", 5, "ndarray")  # an array of objects is not plain data
    received = decode(load_untrusted(pickle.dumps(sent)), resolve=Handle)
    assert isinstance(received[0], tuple) and received[0][0] == 1.5 and received[0].ref == sent[0].ref
    assert isinstance(received[1], dict) and received[1] == {"k": True}
    assert encode(received[0], export=None) == sent[0].ref  # passed back: the student's own object


@pytest.mark.parametrize("forbidden", [Evil(), OrderedDict(a=1), np.zeros(2), np.float64(1.0),
                                       Iter([1]), Same(0), np.random.default_rng(0), slice(1, 2),
                                       range(3), bytearray(b"x")])
def test_the_graders_unpickler_refuses_every_other_class(forbidden):
    with pytest.raises(pickle.UnpicklingError, match="refused"):
        load_untrusted(pickle.dumps(forbidden))


@pytest.mark.parametrize("forged, message", [
    (Array("|O", (1,), b"\0" * 8), "only numbers"),
    (Array("V8", (1,), b"\0" * 8), "only numbers"),
    (Array("<M8[s]", (1,), b"\0" * 8), "only numbers"),
    (Array("<U2", (1,), b"\0" * 8), "only numbers"),
    (Array("<f8", (3,), b"\0" * 8), "does not match its bytes"),
    (Array("<f8", (-1,), b"\0" * 8), "invalid shape"),
    (Array("<f8", (2**62, 2**62), b"\0" * 8), "does not match its bytes"),
    (Array("<f8", None, b"\0" * 4), "wrong size"),
    (Array("<f8", (1,), "text"), "without bytes"),
    (Rng("Evil", {}), "unknown kind"),
    (Ref("judge", "1", "x"), "wrong form"),
])
def test_forged_values_are_refused(forged, message):
    def resolve(ref):
        if type(ref.id) is not int:
            raise ValueError("a reference of the wrong form")
        return Handle(ref)

    with pytest.raises(ValueError, match=message):
        decode(forged, resolve)


def test_nesting_is_bounded():
    deep: list = []
    for _ in range(200):
        deep = [deep]
    with pytest.raises(ValueError, match="nested more than"):
        decode(deep, resolve=Handle)


def test_a_handle_supports_nothing():
    handle = Handle(Ref("worker", 1, "Value"))
    assert repr(handle) == "<Value object>" and handle.type_name == "Value"
    with pytest.raises(AttributeError):
        handle.data  # noqa: B018
    with pytest.raises(AttributeError):
        handle.data = 1
    for use in (float, int, len, iter, complex, lambda h: h + 1, lambda h: h[0], lambda h: -h):
        with pytest.raises(TypeError):
            use(handle)
    # NumPy finds no array protocol on it: an object array holding the handle, nothing else
    assert np.asarray(handle).dtype == object
    assert Handle(Ref("worker", 2, "<bad name>")).type_name == "object"
