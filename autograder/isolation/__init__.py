"""Run student code in a separate, confined process; judge it here.

- `wire`: what crosses between the two processes (plain data by value, the rest by
  reference) and the restricted unpickling that keeps messages from running code.
- `peer`: one side of the conversation, and the proxies for the other side's objects.
- `sandbox`: how the student's process confines itself (memory, files, privileges).
- `worker`: the student's process.
- `judge`: the grader's side, `IsolatedNamespace`, which the checks use like a `Namespace`.
"""

from autograder.isolation.judge import IsolatedNamespace, become_subreaper, kill_orphans

__all__ = ["IsolatedNamespace", "become_subreaper", "kill_orphans"]
