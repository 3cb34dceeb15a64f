"""The two-minute soak: mixed load, bad input and a SIGKILL with restart, every invariant held
(bench/soak.py prints the table; docs/benchmarks.md has the full-size run)."""

from __future__ import annotations

import pytest

from bench import soak

pytest.importorskip("redaction")


@pytest.mark.timeout(600)
def test_a_short_soak_holds_every_invariant(capsys: pytest.CaptureFixture[str]) -> None:
    code = soak.main(["--chatters", "40", "--volunteers", "5", "--seconds", "60"])
    table = capsys.readouterr().out
    assert code == 0, table
    assert "11 passed, 0 failed" in table
