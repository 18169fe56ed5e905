"""The student's process and the grader live apart: what runs student code (`running`, the
`worker`) imports nothing of the grader's side (the checks, the references, the results, the
grading core), so none of it is in the student's process; what crosses is in `protocol`."""

from __future__ import annotations

import json
import subprocess
import sys

GRADER_SIDE = ("autograder.namespace", "autograder.checks", "autograder.references", "autograder.results",
               "autograder.core", "autograder.classrun", "autograder.isolation.judge", "autograder.report",
               "autograder.submissions")


def test_the_student_side_imports_nothing_of_the_graders():
    probe = ("import json, sys; import autograder.isolation.worker, autograder.running; "
             "print(json.dumps(sorted(m for m in sys.modules if m.startswith('autograder'))))")
    loaded = json.loads(subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                                       check=True, timeout=120).stdout)
    assert "autograder.isolation.worker" in loaded and "autograder.running" in loaded
    assert not [m for m in loaded if m.startswith(GRADER_SIDE)], loaded
