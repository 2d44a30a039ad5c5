"""The ``kiosk`` command, run as a real process: schema, triage, and the chat -> triage
contract (the ``report`` of a ``kiosk chat --json`` end event is accepted by triage)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from kiosk.catalogue import load
from kiosk.rules import decide
from kiosk.symptoms import SECTIONS, Answer, SymptomReport
from tests.kiosk_process import broken_vosk_model, converse, kiosk_command

ROOT = Path(__file__).resolve().parent.parent


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        kiosk_command(*args),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        check=False,
    )


def chest_pain_report() -> SymptomReport:
    return SymptomReport.model_validate(
        {"pain": {"severity": 5, "onset": "gradual"}, "symptoms": {"chest_pain": "yes"}}
    )


# --- kiosk schema ---------------------------------------------------------------------


def test_schema_is_json_schema_with_symptom_fields() -> None:
    out = run("schema")
    assert out.returncode == 0, out.stderr
    schema = json.loads(out.stdout)
    assert schema == SymptomReport.model_json_schema()
    assert schema["type"] == "object"
    assert schema["title"] == "SymptomReport"
    assert set(schema["properties"]) == {"schema_version", *SECTIONS}
    defs = schema["$defs"]
    for section, model in SECTIONS.items():
        ref = schema["properties"][section]["$ref"]
        assert ref.startswith("#/$defs/")
        sub = defs[ref.removeprefix("#/$defs/")]
        assert sub["type"] == "object"
        assert set(sub["properties"]) == set(model.model_fields), section
        assert sub.get("additionalProperties") is False, section
    for name in ("chest_pain", "bladder_bowel_problems", "fever"):
        assert name in defs["Symptoms"]["properties"]
    assert {"severity", "duration_days", "onset"} <= set(defs["Pain"]["properties"])
    assert set(defs["Answer"]["enum"]) == {a.value for a in Answer}
    severity = json.dumps(defs["Pain"]["properties"]["severity"])
    assert '"maximum": 10' in severity and '"minimum": 0' in severity


# --- kiosk triage ---------------------------------------------------------------------


def _expected(report: SymptomReport) -> dict[str, Any]:
    return json.loads(decide(report, load()).model_dump_json())


def test_triage_file(tmp_path: Path) -> None:
    report = chest_pain_report()
    path = tmp_path / "report.json"
    path.write_text(report.model_dump_json(), encoding="utf-8")
    out = run("triage", str(path))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == _expected(report)
    assert got["disposition"] == "emergency"
    assert "emergency.chest_pain" in [r["id"] for r in got["rules"]]
    assert got["guidance"].startswith("Call 911 now")


def test_triage_stdin() -> None:
    report = chest_pain_report()
    out = run("triage", "-", stdin=report.model_dump_json())
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == _expected(report)


def test_triage_reads_stdin_by_default() -> None:
    out = run("triage", stdin="{}")
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got == _expected(SymptomReport())
    assert got["disposition"] == "urgent"
    assert "urgent.unresolved_red_flag" in [r["id"] for r in got["rules"]]


def test_triage_negative_report_is_self_care() -> None:
    report = SymptomReport.model_validate(
        {
            "pain": {
                "onset": "gradual",
                "after_injury": "no",
                "duration_days": 2,
                "recurring": "no",
                "severity": 2,
                "worsening": "no",
                "home_care_helped": "yes",
                "interferes_with_life": "no",
                "known_cause": "yes",
            },
            "symptoms": {k: "no" for k in SECTIONS["symptoms"].model_fields},
            "risk_factors": {k: "no" for k in SECTIONS["risk_factors"].model_fields},
        }
    )
    out = run("triage", "-", stdin=report.model_dump_json())
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["disposition"] == "self_care"
    assert got["rules"] == []
    assert got["unresolved"] == []


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ('{"pain": {"severity": 11}}', "pain.severity"),
        ('{"pain": {"duration_days": -1}}', "pain.duration_days"),
        ('{"symptoms": {"chest_pain": "maybe"}}', "symptoms.chest_pain"),
        ('{"symptoms": {"chest_pains": "yes"}}', "symptoms.chest_pains"),
        ('{"risk_factors": {"smoking": 3}}', "risk_factors.smoking"),
        ('{"pain": {"onset": "yesterday"}}', "pain.onset"),
    ],
)
def test_invalid_report_names_the_field(body: str, where: str) -> None:
    out = run("triage", "-", stdin=body)
    assert out.returncode == 2
    assert out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1, out.stderr
    assert where in lines[0]
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("body", ["not json", "[]", ""])
def test_malformed_report_is_one_line_exit_2(body: str) -> None:
    out = run("triage", "-", stdin=body)
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "Traceback" not in out.stderr


def test_invalid_report_file(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"pain": {"severity": 11}}', encoding="utf-8")
    out = run("triage", str(path))
    assert out.returncode == 2
    assert len(out.stderr.strip().splitlines()) == 1, out.stderr
    assert "pain.severity" in out.stderr
    assert "Traceback" not in out.stderr


def test_missing_report_file_is_one_line_exit_2(tmp_path: Path) -> None:
    out = run("triage", str(tmp_path / "nowhere.json"))
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        f"kiosk triage: cannot read {tmp_path / 'nowhere.json'}: No such file or directory"
    ]


# --- chat --json end event -> triage ----------------------------------------------------

SESSIONS = [
    pytest.param(
        {"open": "my upper back hurts and my chest feels tight"},
        "emergency",
        id="emergency_chest_tightness",
    ),
    pytest.param(
        {
            "open": "my upper back has been sore for two days since I sat hunched at my desk",
            "severity": "three",
            "onset": "slowly",
            "home_care_helped": "yes",
            "known_cause": "yes",
            "readback": "yes",
        },
        "self_care",
        id="self_care_posture",
    ),
    pytest.param(
        {
            "open": "my middle back hurts",
            "severity": "eight",
            "onset": "slowly",
            "duration": "three weeks",
            "readback": "yes",
        },
        "urgent",
        id="urgent_very_severe",
    ),
    pytest.param(
        {"open": "my back hurts", "fever": "I don't know", "readback": "yes"},
        "urgent",
        id="urgent_unresolved_fever",
    ),
]


@pytest.mark.parametrize(("answers", "expect"), SESSIONS)
def test_chat_end_report_triages_the_same(answers: dict[str, str], expect: str) -> None:
    end = converse(answers).end
    assert end["event"] == "end"
    assert end["disposition"] == expect, end["rules"]
    out = run("triage", "-", stdin=json.dumps(end["report"]))
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout)
    assert got["disposition"] == end["disposition"]
    assert [r["id"] for r in got["rules"]] == end["rules"]
    assert got["unresolved"] == end["unresolved"]
    assert [r["id"] for r in got["rules"] if r["level"] == "emergency"] == end["red_flags"]


def test_missing_vosk_model_is_one_paragraph_with_the_fix(tmp_path: Path) -> None:
    env = {**os.environ, "KIOSK_MODELS_DIR": str(tmp_path)}
    out = subprocess.run(
        kiosk_command("chat", "--json", "--wav", "--engine", "vosk"),
        input="",
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "kiosk models download" in lines[0], out.stderr


def test_corrupt_vosk_model_is_one_paragraph_with_the_fix(tmp_path: Path) -> None:
    model = broken_vosk_model(tmp_path)
    out = subprocess.run(
        kiosk_command("chat", "--json", "--wav", "--engine", "vosk", "--model", str(model)),
        input="",
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert "did not load" in last and "kiosk models download" in last, out.stderr
