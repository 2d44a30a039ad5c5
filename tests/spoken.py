"""Drive ``kiosk chat --json --wav``: the person's answers, spoken by a synthesized
voice, are heard through the real recognizer."""

from __future__ import annotations

import hashlib
from pathlib import Path

from tests.kiosk_process import Transcript, converse
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

    def recording(text: str) -> str:
        wav = folder / f"{hashlib.sha1(f'{voice.id}{text}'.encode()).hexdigest()[:12]}.wav"
        if not wav.exists():
            say(text, voice, wav)
        return str(wav)

    return converse(
        answers, default, ("--wav", "--engine", engine), timeout=timeout, line_for=recording
    )


def heard(t: Transcript) -> list[str]:
    return [e["text"] for e in t.events if e["event"] == "heard"]
