"""Run at the start of every Python process whose PYTHONPATH holds this folder (see
tests/harness/processes.py): the process dies with its parent, also on `kill -9`."""

from tests.harness.processes import die_with_python_parent

die_with_python_parent()
