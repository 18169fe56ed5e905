"""What the fingerprints of a function set aside, and what they keep."""

from __future__ import annotations

import ast
import textwrap

import pytest

from autograder.fingerprints import MAX_DEPTH, fingerprint_blocks
from autograder.notebook import Block


def prints(code: str) -> set[int]:
    code = textwrap.dedent(code)
    return fingerprint_blocks([Block("<code cell 1>", code, ast.parse(code))], ("softmax",)).hashes


SAME = {
    "names": ("def f(a, b):\n    d = a - b\n    return np.mean(d * d) + 1",
              "def f(pred, true):\n    diff = pred - true\n    return np.mean(diff * diff) + 1"),
    "comments, docstring, layout": (
        "def f(a, b):\n    d = a - b\n    return np.mean(d * d) + 1",
        "def f(a, b):\n    '''Mean squared.'''\n    d = (a -\n         b)  # error\n\n"
        "    return np.mean(\n        d * d\n    ) + 1"),
    "module alias": ("import numpy as np\ndef f(a):\n    return np.exp(a).sum()",
                     "import numpy as xp\ndef f(a):\n    return xp.exp(a).sum()"),
    "imported function": ("import numpy as np\ndef f(a):\n    return np.exp(a).sum()",
                          "from numpy import exp\ndef f(a):\n    return exp(a).sum()"),
    "named constant": ("def f(p):\n    return np.clip(p, 1e-12, 1 - 1e-12)",
                       "EPS = 1e-12\ndef f(p):\n    return np.clip(p, EPS, 1 - EPS)"),
    "augmented assignment": ("def f(a, b):\n    s = a\n    s = s + b\n    return s",
                             "def f(a, b):\n    s = a\n    s += b\n    return s"),
    "operand order": ("def f(a, b):\n    return 2 * a + b == 1", "def f(a, b):\n    return 1 == b + a * 2"),
    "comparison direction": ("def f(a, b):\n    return a > b", "def f(a, b):\n    return b < a"),
    "square": ("def f(a):\n    return a ** 2", "def f(a):\n    return a * a"),
    "int and float": ("def f(a):\n    return 2 * a", "def f(a):\n    return 2.0 * a"),
    "dead code": ("def f(a):\n    b = a + 1\n    return b * 3",
                  "def f(a):\n    unused = 7\n    print(a)\n    b = a + 1\n    if False:\n        b = 0\n"
                  "    pass\n    return b * 3\n    a = 2"),
    "annotations": ("def f(a, b):\n    c = a + b\n    return c",
                    "def f(a: int, b) -> int:\n    c: int = a + b\n    return c"),
    "own helpers' names": ("def g(x):\n    return x\ndef f(a):\n    return g(a) + 1",
                           "def helper(x):\n    return x\ndef f(a):\n    return helper(a) + 1"),
}

DIFFERENT = {
    "another library function": ("def f(a):\n    return np.sum(a * a)",
                                 "def f(a):\n    return np.mean(a * a)"),
    "another constant": ("def f(a):\n    return a / 2", "def f(a):\n    return a / 3"),
    "np.square for ** 2": ("def f(a):\n    return a ** 2", "def f(a):\n    return np.square(a)"),
    "a loop for a sum": ("def f(a):\n    return sum(a)",
                         "def f(a):\n    t = 0\n    for v in a:\n        t += v\n    return t"),
    "a course function for a helper": ("def f(a):\n    return softmax(a)", "def f(a):\n    return other(a)"),
}


@pytest.mark.parametrize("case", SAME)
def test_what_is_set_aside(case):
    first, second = SAME[case]
    assert prints(first) == prints(second)


@pytest.mark.parametrize("case", DIFFERENT)
def test_what_is_kept(case):
    first, second = DIFFERENT[case]
    assert prints(first) != prints(second)


def test_a_deep_expression_is_read_to_a_bounded_depth():
    deep = "def f(a):\n    return " + "(" * 150 + "a" + " + 1)" * 150
    assert prints(deep) and MAX_DEPTH < 150
