"""``kiosk doctor``: a self-check for pharmacy staff. Each check says what it found and,
when something is wrong, what to do about it. Adapters only: nothing clinical here."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from kiosk import config as config_file
from kiosk import echo_canceller, speech_models
from kiosk.audio import DeviceError, Duplex, Loudspeaker, Microphone, find_device, list_devices
from kiosk.recognizer import EngineUnavailable, load_engine
from kiosk.speech import SpeechError, Voice

FIX_CONFIG = "correct the value in the config file (kiosk config show lists them all)"
QUIET_DBFS = -60.0
"""Below this the microphone is taken to be dead or muted."""

TONE_RATE = 16_000
TEST_TONE = (8000 * np.sin(2 * np.pi * 440 * np.arange(TONE_RATE) / TONE_RATE)).astype(np.int16)
"""One second of A440: what the speaker check plays when there is no voice to play."""


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    found: str
    fix: str = ""


def run_checks(config_path: Path | None, test_sentence: str) -> list[Check]:
    checks: list[Check] = []
    try:
        cfg = config_file.load(config_path)
        checks.append(Check("config", True, "valid"))
    except config_file.ConfigError as err:
        checks.append(Check("config", False, str(err), FIX_CONFIG))
        return checks

    def attempt(name: str, fix: str, probe: Callable[[], str]) -> None:
        try:
            checks.append(Check(name, True, probe()))
        except (DeviceError, EngineUnavailable, SpeechError, OSError, ValueError) as err:
            checks.append(Check(name, False, str(err), fix))

    def devices() -> str:
        found = list_devices()
        if not found:
            raise DeviceError("no sound devices found")
        return "; ".join(f"{d['index']}: {d['name']}" for d in found)

    attempt("devices", "plug in the USB microphone and speaker, then restart the kiosk", devices)

    def microphone() -> str:
        mic = Microphone(find_device(cfg.input_device, "input"))
        audio = b"".join(mic.blocks(stop_after=1.0))
        samples = np.frombuffer(audio, dtype=np.int16).astype(np.float64)
        rms = math.sqrt(float(np.mean(samples**2))) if samples.size else 0.0
        level = 20 * math.log10(rms / 32768) if rms > 0 else -math.inf
        if level < QUIET_DBFS:
            raise DeviceError(f"input level {level:.0f} dBFS over 1 s: dead or muted")
        return f"input level {level:.0f} dBFS over 1 s"

    attempt(
        "microphone", "check the microphone is plugged in and not muted (alsamixer)", microphone
    )

    voice_holder: list[Voice] = []

    def tts() -> str:
        voice = Voice(rate=cfg.speaking_rate, volume=cfg.volume)
        voice_holder.append(voice)
        clip = voice.render(test_sentence)
        return f"pyttsx3 rendered {clip.seconds:.1f} s of speech"

    attempt("text-to-speech", "install espeak-ng (apt-get install espeak-ng)", tts)

    def speaker() -> str:
        loudspeaker = Loudspeaker(find_device(cfg.output_device, "output"), margin=0)
        if not voice_holder:  # still worth knowing whether the speaker works
            loudspeaker.play(TEST_TONE, TONE_RATE)
            return "played a test tone (text-to-speech is not working)"
        clip = voice_holder[0].render(test_sentence)
        loudspeaker.play(clip.samples, clip.rate)
        return "played the test sentence"

    attempt("speaker", "check the speaker is plugged in, switched on and turned up", speaker)

    def model() -> str:
        path = cfg.model_path or speech_models.installed(speech_models.ENGLISH)
        engine = load_engine(cfg.engine, path)
        note = "" if engine.name == "vosk" else " (bundled; the Vosk model is not installed)"
        return f"{engine.name} loaded{note}"

    attempt("speech model", speech_models.HOW_TO_INSTALL, model)
    # Informational, never a failure: the kiosk works half-duplex.
    checks.append(Check("barge-in", True, _barge_in(cfg)))
    return checks


def _barge_in(cfg: config_file.KioskConfig) -> str:
    """Whether the kiosk listens while it speaks, tried for real: the echo canceller
    loads and the devices play and record in one stream (a short silence)."""
    half = "half-duplex, speech over the kiosk's voice is not heard"
    if not cfg.barge_in:
        return f"{half} (barge_in = false in the config)"
    why = echo_canceller.availability()
    if why:
        return f"{half}: {why}"
    try:
        duplex = Duplex(
            find_device(cfg.input_device, "input"),
            find_device(cfg.output_device, "output"),
            margin=0.0,
        )
        for _ in duplex.play_listening(np.zeros(1600, dtype=np.int16), 16000):
            pass
    except DeviceError as err:
        return f"{half}: {err}"
    return (
        "on: the kiosk listens while it speaks (Speex echo canceller) for red "
        "flags and stop, repeat, slower"
    )


def as_text(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{'OK ' if c.ok else 'BAD'}  {c.name}: {c.found}")
        if not c.ok:
            lines.append(f"     what to do: {c.fix}")
    return "\n".join(lines)


def as_dicts(checks: list[Check]) -> list[dict[str, object]]:
    return [asdict(c) for c in checks]
