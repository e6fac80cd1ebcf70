"""Tests for the patient-portal demo dataset generator (``persistence.demodata``).

Run from the repository root with:

    .venv/bin/pytest tests/demodata -q
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from persistence.demodata import (
    DEFAULT_NOW,
    DEMO_PASSWORD,
    KINDS,
    check_dataset,
    generate,
)
from persistence.demodata import catalog as C
from persistence.demodata.check import load_dataset

#: Command line equivalent of the former ``shared/datagen/generate.py``.
CLI = [sys.executable, "-m", "persistence.demodata"]


def _read(path: Path, kind: str) -> list[dict[str, Any]]:
    with open(path / f"{kind}.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("small")
    generate(str(out), patients=400, seed=11)
    return out


def test_writes_one_file_per_kind_and_a_manifest(small: Path) -> None:
    for kind in KINDS:
        assert (small / f"{kind}.jsonl").is_file()
    manifest = json.loads((small / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["patients"] == 400
    assert manifest["seed"] == 11
    assert manifest["now"] == DEFAULT_NOW
    assert manifest["demo_password"] == DEMO_PASSWORD
    assert set(manifest["files"]) == set(KINDS)
    assert len(_read(small, "patients")) == 400


def test_self_check_passes(small: Path) -> None:
    assert check_dataset(str(small)) == []


@pytest.mark.parametrize("patients", [1, 2, 5, 9])
def test_tiny_datasets_are_consistent(tmp_path: Path, patients: int) -> None:
    generate(str(tmp_path), patients=patients, seed=5)
    assert check_dataset(str(tmp_path)) == []
    assert len(_read(tmp_path, "patients")) == patients


def test_same_inputs_give_identical_bytes(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    generate(str(a), patients=150, seed=3)
    generate(str(b), patients=150, seed=3)
    for kind in KINDS:
        assert (a / f"{kind}.jsonl").read_bytes() == (b / f"{kind}.jsonl").read_bytes(), kind
    assert (a / "manifest.json").read_bytes() == (b / "manifest.json").read_bytes()


def test_output_does_not_depend_on_hash_randomisation(tmp_path: Path) -> None:
    digests = []
    for hash_seed in ("0", "12345"):
        out = tmp_path / f"h{hash_seed}"
        env = dict(os.environ, PYTHONHASHSEED=hash_seed)
        subprocess.run(  # noqa: S603 - fixed argv, no shell
            [*CLI, "--patients", "60", "--seed", "9", "--out", str(out), "--quiet"],
            check=True,
            env=env,
        )
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
        digests.append({k: v["sha256"] for k, v in manifest["files"].items()})
    assert digests[0] == digests[1]


def test_different_seed_gives_different_data(tmp_path: Path) -> None:
    generate(str(tmp_path / "s1"), patients=50, seed=1)
    generate(str(tmp_path / "s2"), patients=50, seed=2)
    assert (tmp_path / "s1" / "patients.jsonl").read_bytes() != (
        tmp_path / "s2" / "patients.jsonl"
    ).read_bytes()


def test_now_moves_the_timeline(tmp_path: Path) -> None:
    now = "2030-01-15T15:00:00Z"
    generate(str(tmp_path), patients=80, seed=4, now=now)
    assert check_dataset(str(tmp_path)) == []
    appts = _read(tmp_path, "appointments")
    assert any(a["starts_at"] > now for a in appts)
    assert all(s["starts_at"] > now for s in _read(tmp_path, "slots"))
    assert all(r["resulted_at"] <= now for r in _read(tmp_path, "results"))


def test_sizes_scale_with_patients(small: Path) -> None:
    n = 400
    counts = {
        k: len(_read(small, k))
        for k in ("appointments", "results", "message_threads", "messages", "statements")
    }
    assert 3 * n <= counts["appointments"] <= 7 * n
    assert 5 * n <= counts["results"] <= 10 * n
    assert 1.5 * n <= counts["message_threads"] <= 4.5 * n
    assert 2.5 * counts["message_threads"] <= counts["messages"] <= 5 * counts["message_threads"]
    assert 1 * n <= counts["statements"] <= 4 * n
    lines = sum(len(s["line_items"]) for s in _read(small, "statements"))
    assert 2 * counts["statements"] <= lines <= 7 * counts["statements"]


def test_showcase_families(small: Path) -> None:
    manifest, data = load_dataset(str(small))
    now = manifest["now"]
    accounts = {a["username"]: a for a in data["accounts"]}
    for username in (
        "alex.rivera",
        "jordan.rivera",
        "leo.rivera",
        "susan.walsh",
        "daniel.chen",
        "grace.mensah",
    ):
        assert username in accounts
    assert accounts["daniel.chen"]["patient_id"] is None  # proxy-only caregiver
    assert accounts["grace.mensah"]["patient_id"] is None  # proxy-only guardian
    patients = {p["id"]: p for p in data["patients"]}

    def grants_of(username: str) -> list[dict[str, Any]]:
        acct = accounts[username]["id"]
        return [g for g in data["proxy_grants"] if g["proxy_account_id"] == acct]

    def effective(g: dict[str, Any]) -> bool:
        return (
            g["status"] == "active"
            and g["starts_at"] <= now
            and (g["ends_at"] is None or g["ends_at"] > now)
        )

    alex = grants_of("alex.rivera")
    by_child: dict[str, list[dict[str, Any]]] = {}
    for g in alex:
        by_child.setdefault(patients[g["patient_id"]]["given_name"], []).append(g)
    mia, leo = by_child["Mia"], by_child["Leonardo"]
    assert [g["scopes"] for g in mia if effective(g)] == [list(C.FULL_SCOPES)]
    leo_eff = [g for g in leo if effective(g)]
    assert len(leo_eff) == 1
    assert set(leo_eff[0]["scopes"]) == set(C.ADOLESCENT_SCOPES)
    assert any(
        g["status"] == "active" and g["ends_at"] and g["ends_at"] <= now for g in leo
    )  # expired
    assert any(g["status"] == "pending" for g in alex)
    assert any(g["status"] == "revoked" for g in grants_of("jordan.rivera"))
    susan = grants_of("susan.walsh")
    assert len(susan) == 1
    assert effective(susan[0])
    assert susan[0]["relationship"] == "caregiver"
    assert patients[susan[0]["patient_id"]]["given_name"] == "Margaret"
    assert not any(effective(g) for g in grants_of("daniel.chen"))
    grace = grants_of("grace.mensah")
    assert [g["relationship"] for g in grace if effective(g)] == ["guardian"]
    # Showcase patients always have something upcoming.
    upcoming = Counter(
        a["patient_id"]
        for a in data["appointments"]
        if a["starts_at"] > now and a["status"] != "cancelled"
    )
    assert upcoming[accounts["alex.rivera"]["patient_id"]] >= 1


def test_every_account_shares_the_demo_password(small: Path) -> None:
    assert {a["password"] for a in _read(small, "accounts")} == {DEMO_PASSWORD}


def test_results_have_real_codes_and_trends(small: Path) -> None:
    results = _read(small, "results")
    loinc = {a["loinc"] for a in C.ANALYTES.values()}
    tests = {t[1] for t in C.LAB_TESTS.values()} | {t[1] for t in C.IMAGING_TESTS.values()}
    assert {r["code"] for r in results} <= tests
    assert {c["loinc"] for r in results for c in r["components"]} <= loinc
    assert {r["kind"] for r in results} == {"lab", "imaging"}
    assert any(r["released_at"] is None for r in results)
    assert any(c["flag"] == "H" for r in results for c in r["components"])
    per_patient = Counter((r["patient_id"], r["name"]) for r in results)
    assert max(per_patient.values()) >= 3  # the same test repeated over time
    for r in results:
        if r["name"] == "Lipid Panel":
            v = {c["loinc"]: c["value"] for c in r["components"]}
            assert v["43396-1"] == v["2093-3"] - v["2085-9"]  # non-HDL = total - HDL


def test_money_is_integer_cents(small: Path) -> None:
    for st in _read(small, "statements"):
        for li in st["line_items"]:
            assert (
                li["charge_cents"]
                == li["insurance_paid_cents"] + li["adjustment_cents"] + li["patient_cents"]
            )
            assert all(isinstance(li[k], int) for k in li if k.endswith("_cents"))


def test_check_reports_broken_references(tmp_path: Path) -> None:
    generate(str(tmp_path), patients=30, seed=2)
    path = tmp_path / "appointments.jsonl"
    lines = path.read_text(encoding="utf-8").splitlines()
    first = json.loads(lines[0])
    first["provider_id"] = "prv-99999"
    lines[0] = json.dumps(first)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    problems = check_dataset(str(tmp_path))
    assert any("prv-99999" in p for p in problems)


def test_cli_generate_and_check(tmp_path: Path) -> None:
    out = tmp_path / "cli"
    run = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*CLI, "--patients", "25", "--seed", "8", "--out", str(out), "--verify"],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert "check: OK" in run.stdout
    bad = subprocess.run(  # noqa: S603 - fixed argv, no shell
        [*CLI, "--check", str(tmp_path / "missing")], capture_output=True, text=True
    )
    assert bad.returncode == 1


def test_generation_is_fast_enough(tmp_path: Path) -> None:
    # CPU time, not wall time: a loaded machine (CI beside other work) must not fail it.
    started = time.process_time()
    generate(str(tmp_path), patients=2000, seed=1)
    # 10,000 patients take well under a minute; 2,000 should take a few seconds.
    assert time.process_time() - started < 30
