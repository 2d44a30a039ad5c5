"""The anonymous outcome log and the privacy of the voice kiosk: real SQLite, a real
`kiosk run` through file-backed ALSA devices, a real kill -9."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from kiosk.catalogue import load
from kiosk.events import Ending, Finish
from kiosk.outcomes import OutcomeLog
from kiosk.rules import decide
from kiosk.symptoms import SymptomReport
from tests.alsa_files import raw_from_wav, write_config
from tests.kiosk_process import kiosk_command
from tests.synth import Voice, available, say

ROOT = Path(__file__).resolve().parent.parent


def chest_pain_finish() -> Finish:
    report = SymptomReport.model_validate({"symptoms": {"chest_pain": "yes"}})
    return Finish(Ending.guidance, report, decide(report, load()))


def test_records_only_anonymous_fields(tmp_path: Path) -> None:
    log = OutcomeLog(tmp_path / "o.sqlite3")
    log.record(chest_pain_finish(), datetime(2026, 11, 18, 14, 5), 73.24)
    log.record(Finish(Ending.stopped, SymptomReport()), datetime(2026, 11, 18, 15, 0), 12.0)
    db = sqlite3.connect(tmp_path / "o.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    columns = [c[1] for c in db.execute("PRAGMA table_info(outcomes)")]
    assert columns == ["id", "day", "hour", "ended_by", "disposition", "rules", "seconds"]
    rows = db.execute(
        "SELECT day, hour, ended_by, disposition, rules, seconds FROM outcomes"
    ).fetchall()
    assert rows[0][:4] == ("2026-11-18", 14, "guidance", "emergency")
    assert "emergency.chest_pain" in json.loads(rows[0][4]) and rows[0][5] == 73.2
    assert rows[1][2:4] == ("stopped", None)
    assert list(log.counts()) == [("2026-11-18", "emergency", 1), ("2026-11-18", "stopped", 1)]


def test_a_power_cut_loses_nothing_written(tmp_path: Path) -> None:
    """Write from a process, kill -9 it, and the row is there."""
    path = tmp_path / "o.sqlite3"
    code = (
        "import os, signal; from datetime import datetime; from pathlib import Path;"
        "from kiosk.outcomes import OutcomeLog; from tests.test_outcomes import chest_pain_finish;"
        f"OutcomeLog(Path({str(path)!r})).record(chest_pain_finish(), datetime.now(), 1.0);"
        "print('written', flush=True); os.kill(os.getpid(), signal.SIGKILL)"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == -signal.SIGKILL and "written" in out.stdout
    assert sqlite3.connect(path).execute("SELECT COUNT(*) FROM outcomes").fetchone()[0] == 1


def test_kiosk_report(tmp_path: Path) -> None:
    log = OutcomeLog(tmp_path / "outcomes.sqlite3")
    for hour in (9, 10):
        log.record(chest_pain_finish(), datetime(2026, 11, 18, hour), 30.0)
    env = {**os.environ, "KIOSK_STATE_DIR": str(tmp_path)}
    out = subprocess.run(kiosk_command("report"), env=env, cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    line = next(x for x in out.stdout.splitlines() if x.startswith("2026-11-18"))
    assert line.split() == ["2026-11-18", "2", "0", "0", "0", "0", "0", "2"]


@pytest.mark.skipif(not available("flite"), reason="flite is not installed")
@pytest.mark.parametrize("debug", [False, True])
def test_voice_session_logs_no_words_and_records_the_outcome(tmp_path: Path, debug: bool) -> None:
    patient = say(
        "I have chest pain and I can't breathe", Voice("flite", "slt"), tmp_path / "p.wav"
    )
    conf = write_config(tmp_path, raw_from_wav(patient, tmp_path / "mic.raw"), tmp_path / "spk.raw")
    env = {**os.environ, "ALSA_CONFIG_PATH": str(conf), "KIOSK_STATE_DIR": str(tmp_path / "state")}
    args = ["run", "--engine", "pocketsphinx", "--sessions", "1"] + ["--debug-transcripts"] * debug
    run = subprocess.run(kiosk_command(*args), env=env, capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    log = run.stderr.lower()
    if debug:
        assert "debug transcripts are on" in log and "chest" in log, log
    else:
        log = log.split("kiosk: ready")[1]  # the session's own lines
        for word in ("chest", "breathe", "pain", "chest_pain"):
            assert word not in log, f"{word!r} in the log"
    counts = list(OutcomeLog(tmp_path / "state" / "outcomes.sqlite3").counts())
    assert [(kind, n) for _, kind, n in counts] == [("emergency", 1)]
    # No audio and no transcript on disk: the state folder holds the outcome log only.
    names = {p.name for p in (tmp_path / "state").iterdir()}
    assert names <= {"outcomes.sqlite3", "outcomes.sqlite3-wal", "outcomes.sqlite3-shm"}
