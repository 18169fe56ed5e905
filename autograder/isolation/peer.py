"""One side of the conversation between the grader and the student's process.

Both sides keep the objects they lend out (`Peer.export`, under numbers that are never
reused) and refer to the other side's objects by `Ref`. A request is answered either by a
reply or by further requests in the other direction first (a student's ``train`` calling the
grader's ``loss_and_grads``, which runs and replies before ``train`` goes on): the
conversation is a single stack of calls spread over two processes.

What a `Ref` becomes is each side's business: in the grader an inert `wire.Handle`, in the
student's process a `LentFunction` (see `autograder.isolation.worker`).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import Any

from autograder.isolation.protocol import Kind, ProtocolError, RemoteError, parse
from autograder.isolation.wire import Channel, Ref, decode, encode


class Peer:
    """Sends requests to the other process and serves the requests it sends.

    Args:
        side: "judge" (the grader) or "worker" (the student's process).
        channel: the pipes to the other side.
        handlers: request -> function of the request's (decoded) arguments.
        served: the enum the other side's request names must belong to.
    """

    def __init__(self, side: str, channel: Channel, handlers: dict[Enum, Callable], served: type[Enum]):
        self.side, self.channel, self.handlers, self.served = side, channel, handlers, served
        self.exports: dict[int, Any] = {}
        self.export_ids: dict[int, int] = {}  # id(object) -> export number
        self.pinned: set[int] = set()  # export numbers `forget` keeps (the notebook's functions)
        self.next_id = 1

    # --- lending -------------------------------------------------------------------------
    def export(self, value: Any) -> Ref:
        number = self.export_ids.get(id(value))
        if number is None:
            number, self.next_id = self.next_id, self.next_id + 1
            self.exports[number] = value  # kept alive, so id(value) stays unique
            self.export_ids[id(value)] = number
        return Ref(self.side, number, type(value).__name__)

    def exported(self, ref: Ref) -> Any:
        """The object this side lent as ``ref``; LookupError once it was taken back."""
        try:
            return self.exports[ref.id]
        except (KeyError, TypeError):
            raise LookupError(self.gone_message(ref)) from None

    def gone_message(self, ref: Ref) -> str:
        return f"object {ref.id} is no longer available"

    def pin(self, value: Any) -> None:
        """Keep ``value`` lent out until this side ends (`forget` passes it over)."""
        self.pinned.add(self.export(value).id)

    def forget(self) -> None:
        """Take back everything lent so far but what is pinned; numbers are never reused, so an
        old `Ref` fails."""
        self.exports = {n: v for n, v in self.exports.items() if n in self.pinned}
        self.export_ids = {i: n for i, n in self.export_ids.items() if n in self.pinned}

    def resolve(self, ref: Ref) -> Any:
        raise NotImplementedError

    def encode(self, value: Any) -> Any:
        return encode(value, self.export)

    def decode(self, value: Any) -> Any:
        return decode(value, self.resolve)

    # --- the conversation ----------------------------------------------------------------
    def request(self, name: Enum, *args: Any) -> Any:
        """Ask the other side to run request ``name``; serve its requests meanwhile."""
        self.channel.send((Kind.REQUEST.value, name.value, self.encode(args)))
        return self.wait_for_reply()

    def wait_for_reply(self) -> Any:
        while True:
            message = self.channel.receive()
            if not isinstance(message, tuple) or not message:
                raise ProtocolError("sent a message of the wrong form")
            kind, body = parse(Kind, message[0]), message[1:]
            if kind is Kind.REPLY and len(body) == 1:
                try:
                    return self.decode(body[0])
                except Exception as error:  # a forged array, reference, set, dtype or depth
                    problem = str(error)[:200]
                    raise ProtocolError(f"sent something that is not plain data: {problem}",
                                        refused=True) from None
            if kind is Kind.RAISED and len(body) == 3:
                raise self.raised(*(str(part)[:4000] for part in body))
            if kind is Kind.REQUEST and len(body) == 2:
                self.serve(parse(self.served, body[0]), body[1])
            elif kind is Kind.LOADING and len(body) == 1:
                self.loading(body[0])
            else:
                raise ProtocolError(f"sent an unexpected {kind.value} message")

    def raised(self, type_name: str, message: str, where: str) -> BaseException:
        """The exception to raise here for one the other side reported."""
        return RemoteError(type_name, message, where)

    def loading(self, statement: Any) -> None:
        """The student's process is about to run definition ``statement`` (see worker.load)."""

    def serve(self, name: Enum, args: Any) -> None:
        """Run one request of the other side and send back its reply."""
        try:
            handler = self.handlers.get(name)
            if handler is None:
                raise PermissionError(f"request {name.value!r} is not served here")
            arguments = self.decode(args)
            if not isinstance(arguments, tuple):
                raise ProtocolError("sent request arguments of the wrong form")
            reply = (Kind.REPLY.value, self.encode(handler(*arguments)))
        except self.catches as error:
            reply = (Kind.RAISED.value, type(error).__name__, self.describe_error(error), self.where(error))
        self.channel.send(reply)

    # what serving catches and reports back; the grader lets its own time limit through
    catches: type[BaseException] | tuple[type[BaseException], ...] = Exception

    def describe_error(self, error: BaseException) -> str:
        try:
            return str(error)[:2000]
        except Exception:
            return "(its message could not be shown)"

    def where(self, error: BaseException) -> str:
        return ""
