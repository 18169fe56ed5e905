"""Checks, grader and course tooling for "How neural networks learn".

Notebook test cells call `check`; instructors use ``python -m autograder grade``.
"""

from autograder.notebook_checks import check

__all__ = ["check"]
__version__ = "0.1.0"
