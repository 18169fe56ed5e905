"""One side of the conversation between the grader and the student's process.

Both sides keep the objects they lend out (`Peer.export`) and hold `Proxy` objects for
what the other side lent them. A request is answered either by a reply or by further
requests in the other direction first (a student's ``train`` calling the grader's
``loss_and_grads``, which runs and replies before ``train`` goes on): the conversation is
a single stack of calls spread over two processes.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import Any

from autograder.isolation.wire import Channel, ChannelClosed, Ref, decode, encode

# Operations a proxy forwards; the owner applies them with these functions.
OPERATIONS: dict[str, Callable] = {
    name: getattr(operator, name)
    for name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "neg", "pos",
                 "abs", "lt", "le", "gt", "ge", "getitem", "contains", "index")
} | {
    name: getattr(builtins, name)
    for name in ("len", "iter", "next", "repr", "str", "bool", "float", "int", "complex", "format")
}


class StudentError(Exception):
    """An exception of the student's own class (or one that must not travel as itself)."""


# Raised as themselves on the other side: builtin exceptions that are safe to re-create.
# SystemExit, KeyboardInterrupt and GeneratorExit are not: they would stop the grader.
TRAVELLING_ERRORS = {
    name: value for name, value in vars(builtins).items()
    if isinstance(value, type) and issubclass(value, Exception) and not issubclass(value, Warning)
}


def rebuild_error(type_name: str, message: str, where: str) -> BaseException:
    """A local exception standing for one raised on the other side."""
    cls = TRAVELLING_ERRORS.get(type_name)
    if cls is None or cls is StopAsyncIteration:
        safe = type_name if type_name.isidentifier() and len(type_name) <= 60 else "Exception"
        cls = type(safe, (StudentError,), {"__str__": lambda self: self.args[0] if self.args else ""})
    try:
        error = cls(message)
    except Exception:
        error = StudentError(message)
    error.student_where = where  # where in the notebook it happened, for feedback
    return error


class Proxy:
    """Stands for an object that lives in the other process; every use is a request."""

    __slots__ = ("_peer", "_ref", "__weakref__")

    def __init__(self, peer: Peer, ref: Ref):
        object.__setattr__(self, "_peer", peer)
        object.__setattr__(self, "_ref", ref)

    def __getattr__(self, name: str) -> Any:
        return self._peer.request("getattr", self, name)

    def __setattr__(self, name: str, value: Any) -> None:
        self._peer.request("setattr", self, name, value)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self._peer.request("call", self, args, kwargs)

    # identity, not the remote __eq__: proxies go into sets and dicts
    def __eq__(self, other: object) -> bool:
        return isinstance(other, Proxy) and other._ref == self._ref and other._peer is self._peer

    def __hash__(self) -> int:
        return hash(self._ref)

    def __repr__(self) -> str:
        return self._peer.request("operate", "repr", (self,))

    def __str__(self) -> str:
        return self._peer.request("operate", "str", (self,))

    def __format__(self, spec: str) -> str:
        return self._peer.request("operate", "format", (self, spec))

    def __copy__(self) -> Proxy:
        return self

    def __deepcopy__(self, memo: dict) -> Proxy:  # the object itself never leaves its process
        return self

    def __iter__(self):
        return self._peer.request("operate", "iter", (self,))

    def __next__(self):
        return self._peer.request("operate", "next", (self,))


def _forward(name: str, swapped: bool = False) -> Callable:
    if swapped:
        def method(self, other):
            return self._peer.request("operate", name, (other, self))
    else:
        def method(self, *args):
            return self._peer.request("operate", name, (self, *args))
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul"):
    setattr(Proxy, f"__{_name}__", _forward(_name))
    setattr(Proxy, f"__r{_name}__", _forward(_name, swapped=True))
for _name in ("neg", "pos", "abs", "lt", "le", "gt", "ge", "getitem", "len", "bool", "float", "int",
              "complex", "index"):
    setattr(Proxy, f"__{_name}__", _forward(_name))
Proxy.__contains__ = lambda self, item: self._peer.request("operate", "contains", (self, item))


def proxy_class(type_name: str, cache: dict[str, type] = {}) -> type:  # noqa: B006 (a cache)
    """A Proxy subclass named like the remote type, so feedback says "a Value", not "a Proxy"."""
    name = type_name if type_name.isidentifier() and len(type_name) <= 60 else "object"
    if name not in cache:
        cache[name] = type(name, (Proxy,), {"__slots__": ()})
    return cache[name]


class Peer:
    """Sends requests to the other process and serves the requests it sends.

    Args:
        side: "judge" (the grader) or "worker" (the student's process).
        channel: the pipes to the other side.
        handlers: request name -> function of the request's (decoded) arguments.
        by_value: extra types this side sends by value (see `wire.encode`).
    """

    def __init__(self, side: str, channel: Channel, handlers: dict[str, Callable],
                 by_value: tuple[type, ...] = ()):
        self.side, self.channel, self.handlers, self.by_value = side, channel, handlers, by_value
        self.exports: dict[int, Any] = {}
        self.export_ids: dict[int, int] = {}  # id(object) -> export id
        self.proxies: dict[Ref, Proxy] = {}

    # --- lending and borrowing ---
    def export(self, value: Any) -> Ref:
        if isinstance(value, Proxy) and value._peer is self:
            return value._ref
        number = self.export_ids.get(id(value))
        if number is None:
            number = len(self.exports) + 1
            self.exports[number] = value  # kept alive, so id(value) stays unique
            self.export_ids[id(value)] = number
        return Ref(self.side, number, type(value).__name__)

    def resolve(self, ref: Ref) -> Any:
        if ref.owner == self.side:
            try:
                return self.exports[ref.id]
            except KeyError:
                raise LookupError(f"no object {ref.id} was lent out") from None
        proxy = self.proxies.get(ref)
        if proxy is None:
            proxy = self.proxies[ref] = proxy_class(ref.type_name)(self, ref)
        return proxy

    def encode(self, value: Any) -> Any:
        return encode(value, self.export, self.by_value)

    def decode(self, value: Any) -> Any:
        return decode(value, self.resolve)

    # --- the conversation ---
    def request(self, name: str, *args: Any) -> Any:
        """Ask the other side to run request ``name``; serve its requests meanwhile."""
        self.channel.send(("request", name, self.encode(args)))
        return self.wait_for_reply()

    def wait_for_reply(self) -> Any:
        while True:
            kind, *body = self.channel.receive()
            if kind == "reply":
                try:
                    return self.decode(body[0])
                except Exception as error:  # a forged array or reference
                    raise ChannelClosed(f"sent something that is not plain data ({error})") from None
            if kind == "raised":
                type_name, message, where = (str(part) for part in body)
                raise rebuild_error(type_name, message, where)
            if kind == "request":
                self.serve(*body)
            else:
                raise LookupError(f"unknown message {kind!r}")

    def serve(self, name: str, args: Any) -> None:
        """Run one request of the other side and send back its reply."""
        try:
            handler = self.handlers.get(name)
            if handler is None:
                raise PermissionError(f"request {name!r} is not served here")
            reply = ("reply", self.encode(handler(*self.decode(args))))
        except self.catches as error:
            reply = ("raised", type(error).__name__, self.describe_error(error), self.where(error))
        self.channel.send(reply)

    # what serving catches and reports back; the grader lets its own time limit through
    catches: type[BaseException] | tuple[type[BaseException], ...] = Exception

    def describe_error(self, error: BaseException) -> str:
        try:
            return str(error)[:2000]
        except Exception:
            return "(its message could not be shown)"

    def where(self, error: BaseException) -> str:
        return getattr(error, "student_where", "")
