"""Render one sentence with pyttsx3 and write the WAV to stdout; run as a child process.

pyttsx3's espeak driver synthesizes asynchronously and its loop returns before the
audio is delivered (pyttsx3 #219), so in a long-lived process one sentence's audio can
land in the next one's file. One process per sentence makes that impossible.

    python -m kiosk.tts_process RATE < text
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import sys
import tempfile
import time
import wave
from pathlib import Path


def keep_the_last_samples() -> None:
    """pyttsx3's espeak driver writes the file when the end-of-message event arrives and
    only after that adds the same callback's samples, so when espeak hands over its last
    samples together with that event they are lost ("Call nine one one now." came out
    0.6 s short under load). Adding them first keeps them."""
    from pyttsx3.drivers.espeak import EspeakDriver

    original = EspeakDriver._onSynth
    if getattr(original, "keeps_last_samples", False):
        return

    def on_synth(self: EspeakDriver, wav: int, numsamples: int, events: object) -> int:
        if numsamples > 0 and self._speaking:
            self._data_buffer += ctypes.string_at(wav, numsamples * ctypes.sizeof(ctypes.c_short))
        return original(self, wav, 0, events)

    on_synth.keeps_last_samples = True  # type: ignore[attr-defined]
    EspeakDriver._onSynth = on_synth  # type: ignore[method-assign]


def render(text: str, rate: int) -> bytes:
    import pyttsx3

    keep_the_last_samples()
    with tempfile.TemporaryDirectory(prefix="kiosk-tts-") as tmp:
        path = Path(tmp) / "say.wav"
        engine = pyttsx3.init()
        engine.setProperty("rate", rate)
        with contextlib.redirect_stdout(io.StringIO()):  # the driver prints "Audio saved"
            engine.save_to_file(text, str(path))
            engine.runAndWait()
            try:
                from pyttsx3.drivers import _espeak

                _espeak.Synchronize()
            except (ImportError, OSError):  # not the espeak driver
                pass
        deadline = time.monotonic() + 5.0 + len(text) / 20
        while time.monotonic() < deadline:
            try:
                with wave.open(str(path), "rb") as w:
                    frames = w.getnframes()
                    if frames and path.stat().st_size >= 44 + frames * w.getsampwidth():
                        return path.read_bytes()
            except (OSError, EOFError, wave.Error):
                pass
            time.sleep(0.01)
    raise RuntimeError("text-to-speech produced no audio")


def main() -> int:
    rate = int(sys.argv[1])
    text = sys.stdin.read()
    try:
        sys.stdout.buffer.write(render(text, rate))
    except Exception as err:  # report to the parent in one line
        print(f"{type(err).__name__}: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
