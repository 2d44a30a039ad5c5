"""Someone speaking *to* the idle kiosk: is it answered, and how soon? Not a test: the
figures go in the README (tests/test_chatter.py and tests/test_wake.py hold the floors).

    .venv/bin/python bench/wake_bench.py --voices tune
    .venv/bin/python bench/wake_bench.py --voices held-out --json /tmp/wake.json

Each case is one person and one phrase, said to the idle kiosk in a quiet room or in a
pharmacy's noise 15 dB under them; if the kiosk says nothing, the person says it again
four seconds later (people do: someone in distress who is not answered repeats
themselves). Counted per case: what the kiosk first said (the greeting, a check "I
heard... Is that right?", or "Call 911") and whether it answered the first saying or
only the second. Calls ("excuse me") and openings ("my back is killing me") should be
greeted; red flags should get a check or the emergency guidance.

The other side of the same rules is bench/chatter_bench.py: an hour of small talk near
the kiosk must start almost nothing. A rule is only worth having if it wins here
without losing there.

Voices, phrases and noises come in tune and held-out sets (the red flags and voices are
bench/barge_in_bench.py's); the held-out ones are never tuned on.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import logging
import os
import platform
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from barge_in_bench import (  # noqa: E402
    HELD_OUT_PHRASES,
    HELD_OUT_VOICES,
    SPEECH_RMS,
    TUNE_PHRASES,
    TUNE_VOICES,
    TimedRoom,
    phrase_pcm,
)

from kiosk.events import Priority, Say  # noqa: E402
from kiosk.recognizer import PocketsphinxEngine  # noqa: E402
from tests.pharmacy import Noise  # noqa: E402
from tests.room import RoomClosed, kiosk_in, seconds  # noqa: E402

TUNE_CALLS = [
    "hello",
    "excuse me",
    "can you help me",
    "my back is killing me",
    "I've hurt my back",
]
HELD_OUT_CALLS = [
    "hi there",
    "excuse me please",
    "I need help",
    "my upper back really hurts",
    "I've got a bad back",
]
FIRST_AT = 1.5
"""Room seconds of quiet (or noise) before the person speaks."""
AGAIN_AFTER = 4.0
"""Seconds after the end of the first saying that an unanswered person says it again."""
WAIT = 12.0
"""Seconds after the second saying that the kiosk has to answer."""


class Answered(Exception):
    """The kiosk said its first sentence: the case is decided."""


@dataclass
class Case:
    voice: str
    phrase: str
    kind: str
    """"call" or "red flag"."""
    noise: str
    answer: str = "nothing"
    """"greeting", "check", "911" or "nothing"."""
    on_try: int = 0
    """1 or 2: which saying it answered (0: neither)."""
    decodes: list[str] = field(default_factory=list)
    """What the idle kiosk made of each utterance: grammar decode / free decode
    (synthetic speech: nobody's words)."""


class _Decodes(logging.Handler):
    def __init__(self, case: Case) -> None:
        super().__init__()
        self.case = case

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("DEBUG TRANSCRIPT idle"):
            text, second = record.args  # type: ignore[misc]
            self.case.decodes.append(f"{text} / {second}")


def one(voice_pcm: bytes, case: Case, noise: Noise | None, engine: PocketsphinxEngine) -> None:
    room = TimedRoom(limit=1e9)
    if noise is not None:
        # Each case hears its own stretch of the noise, whatever the cases before it
        # took: otherwise one case answered sooner shifts every later case's noise, and
        # two runs of the rules cannot be compared case by case.
        key = f"{case.voice} {case.phrase}".encode()
        noise.pos = int.from_bytes(hashlib.sha1(key).digest()[:4], "big") % noise.x.size
        room.noise = noise
        room.noise_level = SPEECH_RMS / 10 ** (15 / 20)
    again = FIRST_AT + seconds(voice_pcm) + AGAIN_AFTER
    room.say_at(FIRST_AT, voice_pcm)
    room.say_at(again, voice_pcm)
    room.give_up = again + seconds(voice_pcm) + WAIT
    engine.new_person()  # nobody's voice before theirs
    kiosk = kiosk_in(room, engine, debug_transcripts=True)
    decodes = _Decodes(case)
    logging.getLogger("kiosk.voice").addHandler(decodes)
    logging.getLogger("kiosk.voice").propagate = False
    greeting = kiosk.c.say("greeting")

    def say(action: Say, *rest: object) -> None:
        if action.priority is Priority.emergency:
            case.answer = "911"
        else:
            case.answer = "greeting" if action.text == greeting else "check"
        case.on_try = 1 if room.now < again else 2
        raise Answered

    kiosk.say = say  # type: ignore[method-assign]
    try:
        with contextlib.suppress(Answered, RoomClosed):
            kiosk.run(1)
    finally:
        kiosk.voice.close()
        logging.getLogger("kiosk.voice").removeHandler(decodes)


def run(which: str, folder: Path, conditions: tuple[str, ...] = ("clean", "15 dB")) -> dict:
    voices = TUNE_VOICES if which == "tune" else HELD_OUT_VOICES
    phrases = [(p, "call") for p in (TUNE_CALLS if which == "tune" else HELD_OUT_CALLS)]
    phrases += [(p, "red flag") for p in (TUNE_PHRASES if which == "tune" else HELD_OUT_PHRASES)]
    recipe = "A" if which == "tune" else "B"
    engine = PocketsphinxEngine()
    cases: list[Case] = []
    for noise_name in conditions:
        noise = Noise(recipe, folder) if noise_name != "clean" else None
        for voice in voices:
            for phrase, kind in phrases:
                case = Case(voice.id, phrase, kind, noise_name)
                one(phrase_pcm(phrase, voice, folder), case, noise, engine)
                cases.append(case)
                line = f"{case.noise:6} {case.voice:24} {phrase!r:42} {case.answer} {case.on_try}"
                print(line, case.decodes, flush=True)
    return {
        "voices": which,
        "summary": summary(cases),
        "cases": [asdict(c) for c in cases],
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def summary(cases: list[Case]) -> dict[str, dict[str, str]]:
    """Per noise and kind: answered as it should be on the first saying, by the second."""
    out: dict[str, dict[str, str]] = {}
    for noise in dict.fromkeys(c.noise for c in cases):
        for kind, right in (("call", {"greeting"}), ("red flag", {"check", "911"})):
            group = [c for c in cases if c.noise == noise and c.kind == kind]
            first = sum(c.answer in right and c.on_try == 1 for c in group)
            second = sum(c.answer in right for c in group)
            wrong = sum(c.answer not in right | {"nothing"} for c in group)
            line = {"first": f"{first}/{len(group)}", "by second": f"{second}/{len(group)}"}
            if kind == "red flag":
                line["at once"] = str(sum(c.answer == "911" for c in group))
            line["answered otherwise"] = str(wrong)
            out[f"{noise}, {kind}"] = line
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--voices", choices=["tune", "held-out"], default="held-out")
    p.add_argument("--noise", choices=["both", "clean", "15"], default="both")
    p.add_argument("--json", type=Path)
    args = p.parse_args()
    conditions = {"both": ("clean", "15 dB"), "clean": ("clean",), "15": ("15 dB",)}
    folder = Path(os.environ.get("KIOSK_BENCH_AUDIO", "/tmp/kiosk-bench-audio"))
    folder.mkdir(parents=True, exist_ok=True)
    result = run(args.voices, folder, conditions[args.noise])
    for key, line in result["summary"].items():
        print(f"{key}: {line}")
    if args.json:
        args.json.write_text(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
