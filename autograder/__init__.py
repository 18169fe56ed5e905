"""Checks, grader and course tooling for "How neural networks learn".

Notebook test cells call `check`; the capstone uses `load_digits` and `load_functions`;
instructors use ``python -m autograder grade``.
"""

from autograder.datasets import load_digits
from autograder.notebook_checks import check
from autograder.reuse import load_functions

__all__ = ["check", "load_digits", "load_functions"]
__version__ = "0.1.0"
