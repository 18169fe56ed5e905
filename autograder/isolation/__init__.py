"""Run student code in a separate, contained process; judge it here.

- `protocol`: the conversation as a typed interface (message kinds, requests, `RemoteError`).
- `wire`: what crosses between the two processes (plain data by value, the rest as inert
  handles) and the restricted unpickling that keeps messages from running code.
- `peer`: one side of the conversation.
- `sandbox`: how the student's process is contained (namespaces, limits, Landlock, seccomp).
- `zygote`: the clean process that forks contained student processes in milliseconds.
- `worker`: the student's process.
- `judge`: the grader's side, `IsolatedNamespace`, which the checks use like a `Namespace`.
"""

from typing import Any

__all__ = ["IsolatedNamespace"]


def __getattr__(name: str) -> Any:
    # Imported on first use: `wire` and `protocol` are needed where the judge is not.
    if name not in __all__:
        raise AttributeError(f"module 'autograder.isolation' has no attribute {name!r}")
    from autograder.isolation import judge

    return getattr(judge, name)
