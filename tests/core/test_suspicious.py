"""Code that reaches for files, processes or the grader is flagged; harmless imports are not."""

from __future__ import annotations

import textwrap

import pytest

from autograder.notebook import Cell, select_definitions
from autograder.suspicious import suspicious_code


def findings(code: str) -> list[str]:
    blocks, _ = select_definitions([Cell(0, textwrap.dedent(code))])
    return suspicious_code(blocks)


@pytest.mark.parametrize("code", [
    "from builtins import range, len, sum\ndef f(n):\n    return sum(range(len([1] * n)))\n",
    "import builtins\ndef f(x):\n    return builtins.abs(x)\n",
    "import sys\nsys.setrecursionlimit(5000)\ndef f():\n    return sys.getrecursionlimit()\n",
    "from sys import setrecursionlimit\nsetrecursionlimit(4000)\ndef f():\n    return 1\n",
    "import numpy as np\nimport math\ndef f(x):\n    return np.exp(x) + math.pi\n",
])
def test_harmless_code_is_not_flagged(code):
    assert findings(code) == []


@pytest.mark.parametrize("code, finding", [
    ("from builtins import open\ndef f(p):\n    return open(p).read()\n", "opens files"),
    ("import builtins\ndef f():\n    return builtins.__import__('os')\n", "imports modules dynamically"),
    ("import os\ndef f():\n    return os.getpid()\n", "uses the operating system"),
    ("from os import system\ndef f():\n    return system('true')\n", "uses the operating system"),
    ("import numpy as np\ndef f():\n    np.allclose = lambda *a: True\n", "changes `np.allclose`"),
    ("import autograder\ndef f():\n    return autograder\n", "uses the grader itself"),
])
def test_reaching_out_is_flagged(code, finding):
    assert any(finding in line for line in findings(code)), findings(code)
