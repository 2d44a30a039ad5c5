"""Drive ``kiosk chat --json --wav``: the person's answers, spoken by a synthesized
voice, are heard through the real recognizer."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
from pathlib import Path
from typing import Any

from tests.kiosk_process import TODAY, Transcript, kiosk_command
from tests.synth import Voice, say


def converse_spoken(
    answers: dict[str, str | list[str]],
    voice: Voice,
    folder: Path,
    default: str = "no",
    engine: str = "pocketsphinx",
    timeout: float = 120,
) -> Transcript:
    """Like tests.kiosk_process.converse, but each answer is a WAV file."""
    folder.mkdir(parents=True, exist_ok=True)
    proc = subprocess.Popen(
        kiosk_command("chat", "--json", "--wav", "--engine", engine, "--today", TODAY),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        bufsize=1,
        cwd=Path(__file__).resolve().parent.parent,
        env={**os.environ},
    )
    assert proc.stdin and proc.stdout
    t = Transcript()
    used: dict[str, int] = {}
    try:
        for line in proc.stdout:
            event: dict[str, Any] = json.loads(line)
            t.events.append(event)
            if event["event"] == "listen":
                q = event["question"]
                t.asked.append(q)
                given = answers.get(q, default)
                if isinstance(given, list):
                    n = used.get(q, 0)
                    used[q] = n + 1
                    given = given[min(n, len(given) - 1)]
                name = hashlib.sha1(f"{voice.id}{given}".encode()).hexdigest()[:12]
                wav = folder / f"{name}.wav"
                if not wav.exists():
                    say(given, voice, wav)
                proc.stdin.write(f"{wav}\n")
                proc.stdin.flush()
            if event["event"] == "end":
                break
        proc.stdin.close()
        proc.wait(timeout=timeout)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    return t


def heard(t: Transcript) -> list[str]:
    return [e["text"] for e in t.events if e["event"] == "heard"]
