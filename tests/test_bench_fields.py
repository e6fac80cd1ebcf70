"""The field micro-benchmark measures what it says: each case answers without errors and
with the fields it counts, the access case through the real guard and its grant."""

from __future__ import annotations

import pytest

from bench import fields


@pytest.mark.parametrize("case", list(fields.MICRO_CASES))
def test_each_micro_case_runs_and_counts_its_fields(
    case: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert fields.main(["--only", case, "--repeat", "1"]) == 0
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.startswith(case)
    assert "µs/field" in line
    assert "(80" in line  # 200 objects of 4 fields, their list field and its edges


def test_fields_are_counted_through_lists() -> None:
    answer = {"a": [{"b": 1, "c": {"d": None}}, {"b": 2, "c": None}], "e": "x"}
    assert fields.fields_in(answer) == 7


def test_the_dashboard_cases_run_on_a_seeded_database(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--patients", "3", "--requests", "3", "--repeat", "1"]
    assert fields.main([*argv, "--only", "dashboard"]) == 0
    assert fields.main([*argv, "--only", "sqlite"]) == 0
    out = capsys.readouterr().out
    assert "dashboard" in out
    assert "CPU ms/request" in out
