"""Talking over the kiosk (barge-in), measured. Not a test: the figures go in the README
(tests/test_barge_in.py and tests/test_echo.py run a few cases in CI).

    .venv/bin/python bench/barge_in_bench.py over-voice --voices tune --noise clean
    .venv/bin/python bench/barge_in_bench.py over-voice --voices held-out --noise 15
    .venv/bin/python bench/barge_in_bench.py over-voice --voices held-out --voice 1 --echo off
    .venv/bin/python bench/barge_in_bench.py echo --sessions 200
    .venv/bin/python bench/barge_in_bench.py over-voice --voices held-out \
        --engine vosk --vosk-model models/vosk-model-small-en-us-0.15    # on the Pi

``over-voice``: a red flag said over the kiosk's own voice (the greeting, the open
question, a question mid-session, the read-back; 20 % and 60 % into the sentence), the
kiosk's echo coming back (tests/room.py ``Echo``), in a quiet room or a pharmacy's noise
15 dB under the speaker. The person answers "yes" if the kiosk checks ("Did you
say...?"). Counted per case: heard (the session ends in "Call 911" within 30 s; a case
still going then is a miss, and its room closes there), at once
(no check first), and the response time from the end of the phrase to the kiosk's next
words (its check or "Call 911"). Room time is the audio's own clock; the compute the
kiosk spends meanwhile is measured too, and the response time reported is the larger of
the two (on a kiosk keeping up with real time, the room's; on one falling behind, the
compute's).

``echo``: sessions with nobody there, the kiosk's echo on (delays 20-80 ms, -6 to -14
dB, reverberation 0.2-0.5 s): everything the kiosk takes as said, over its voice or in
a listen turn, came from its own speech. The target is none.

Both report the compute of the echo canceller plus the recognizer while the kiosk
speaks, as a real-time factor (the issue's budget: under half of one core).

The kiosk has been on a while: its echo canceller has settled (tests/room.py
``settle``), as it has after its first sentences of the day. Voices, phrases and noise
come in tune and held-out sets; the held-out ones were never looked at while building.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk import voice as voice_module  # noqa: E402
from kiosk.audio import clip16, read_wav  # noqa: E402
from kiosk.catalogue import load  # noqa: E402
from kiosk.dialog import Dialog  # noqa: E402
from kiosk.endpointer import loudness  # noqa: E402
from kiosk.events import Action, Event, Finish, Heard, Listen, Say  # noqa: E402
from kiosk.recognizer import SAMPLE_RATE, Engine, load_engine  # noqa: E402
from kiosk.rules import Disposition  # noqa: E402
from kiosk.understanding import Understander  # noqa: E402
from kiosk.voice import ListenSettings, VoiceKiosk  # noqa: E402
from tests.kiosk_process import pick_answer  # noqa: E402
from tests.pharmacy import Noise, NoisyRoom, said, stretch  # noqa: E402
from tests.room import Echo, Room, RoomClosed, kiosk_in, seconds, settle  # noqa: E402
from tests.sessions import load_vignettes  # noqa: E402
from tests.synth import Voice  # noqa: E402

READBACK_VIGNETTE = "s_no_chest_pain_slept_wrong"
"""A self-care vignette, typed, to bring the dialog to its read-back."""
TODAY = date(2026, 11, 18)

TUNE_VOICES = [Voice("flite", "slt"), Voice("flite", "rms", rate=0.9)]
HELD_OUT_VOICES = [Voice("flite", "awb", rate=1.05), Voice("espeak-ng", "en-029", pitch=60)]

# Red flags as someone might blurt them out over a machine. The tune set is the one the
# recognizer tests use; the held-out set was written for this benchmark and never tuned on.
TUNE_PHRASES = [
    "no, but I can't really feel my legs",
    "my chest feels tight",
    "I can't breathe",
    "I lost control of my bladder",
    "my legs went numb",
    "the pain goes into my left arm",
    "I fell off a ladder",
    "I coughed up blood",
    "my arms feel weak",
    "I can't walk",
]
HELD_OUT_PHRASES = [
    "I'm struggling to breathe",
    "my chest really hurts",
    "I've wet myself",
    "my legs have gone numb",
    "I was in a car crash",
    "I can't stand up",
    "the pain is going down my arm",
    "I'm coughing up blood",
    "I passed out this morning",
    "my arms have gone weak",
]
MOMENTS = ["greeting", "open question", "a question", "read-back"]
FRACTIONS = [0.2, 0.6]
SPEECH_RMS = 4000.0
"""The person's level at the microphone (the synthesized phrases, normalized)."""
ECHO = Echo(delay=0.05, gain_db=-10)
HEARD_WITHIN = 30.0
"""A red flag counts as heard if "Call 911" has begun twice by this many seconds after
the phrase (a check, its answer and the guidance fit well within it)."""
NO_ECHO = Echo(delay=0.05, gain_db=-150)
"""``--echo off``: the kiosk speaks and listens as ever, but nothing of its voice comes
back. The same cases then say what the echo (and the canceller taking it out) costs,
apart from what overlapping the kiosk's sentences and the recognizer cost."""


# --- the room, with a pharmacy's noise and a clock for compute -----------------------------


@dataclass
class TimedRoom(NoisyRoom):
    """The stand-in room with a pharmacy's noise, also noting when (wall clock) each
    block left it and each clip began, to weigh compute against the room's time."""

    delivered: list[tuple[float, float]] = field(default_factory=list)
    """(room time at the end of the block, wall clock) for every block heard."""
    started: list[tuple[float, float]] = field(default_factory=list)
    """(room time, wall clock) at which each clip began to play."""
    give_up: float = float("inf")
    """Room time after which the kiosk still listening (or talking while it listens,
    which the emergency guidance never is) means the case was missed: the room closes
    there instead of running on (a missed case in noise cost a minute of noisy room)."""

    def _too_late(self) -> None:
        if self.now > self.give_up:
            raise RoomClosed(f"no emergency guidance by {self.give_up:g} s of room time")

    def _note(self, blocks: Iterator[Any]) -> Generator[Any, None, None]:
        try:
            for block in blocks:
                yield block
                self.delivered.append((self.now, time.monotonic()))
        finally:
            close = getattr(blocks, "close", None)
            if close:
                close()

    def blocks(self, stop_after: float) -> Iterator[bytes]:
        return self._note(self._until_too_late(super().blocks(stop_after)))

    def _until_too_late(self, blocks: Iterator[Any]) -> Generator[Any, None, None]:
        try:
            for block in blocks:
                self._too_late()
                yield block
        finally:
            close = getattr(blocks, "close", None)
            if close:
                close()

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.started.append((self.now, time.monotonic()))
        super().play(samples, rate)

    def play_listening(
        self, samples: np.ndarray, rate: int
    ) -> Generator[tuple[bytes, bytes], None, None]:
        self.started.append((self.now, time.monotonic()))
        played = super().play_listening(samples, rate)
        return self._note(self._until_too_late(played))  # type: ignore[return-value]

    def forget_before(self, at: float) -> None:
        super().forget_before(at)
        self.delivered = [d for d in self.delivered if d[0] >= at]


def _key(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest()[:12]


def phrase_pcm(text: str, voice: Voice, folder: Path) -> bytes:
    x = np.frombuffer(
        read_wav(said(text, voice, folder / f"bargein-{voice.id}-{_key(text)}.wav")),
        dtype=np.int16,
    ).astype(np.float64)
    x = x / (np.sqrt(np.mean(x**2)) or 1.0) * SPEECH_RMS
    return clip16(x).tobytes()


# --- where in the conversation --------------------------------------------------------------


def at_moment(moment: str, c: Any, u: Understander) -> tuple[Dialog, list[Action], int]:
    """A fresh dialog at ``moment``: its pending actions and which Say is the target."""
    d = Dialog(c, u, TODAY)
    actions = d.start()
    if moment == "greeting":
        return d, actions, 0
    if moment == "open question":
        return d, actions, 1
    if moment == "a question":
        actions = d.handle(Heard("my upper back hurts"))
        return d, actions, _last_say(actions)
    answers = next(v for v in load_vignettes() if v["id"] == READBACK_VIGNETTE)["answers"]
    used: dict[str, int] = {}
    for _ in range(60):
        listen = next(a for a in actions if isinstance(a, Listen))
        if listen.turn == "readback":
            return d, actions, 0  # the summary of what was heard
        actions = d.handle(Heard(pick_answer(listen.turn, answers, "no", used)))
    raise AssertionError("never reached the read-back")


def _last_say(actions: list[Action]) -> int:
    listen = next(i for i, a in enumerate(actions) if isinstance(a, Listen))
    return max(i for i, a in enumerate(actions[:listen]) if isinstance(a, Say))


# --- over the kiosk's voice -------------------------------------------------------------------


@dataclass
class Case:
    voice: str
    phrase: str
    moment: str
    fraction: float
    heard: bool = False
    at_once: bool = False
    cut: bool = False
    room_delay: float | None = None
    compute_delay: float | None = None
    ending: str = ""

    @property
    def delay(self) -> float | None:
        if self.room_delay is None:
            return None
        return max(self.room_delay, self.compute_delay or 0.0)


def pocketsphinx() -> Engine:
    """The recognizer the benchmarks run here (the bundled one)."""
    return load_engine("pocketsphinx", None)


def over_voice(
    voices: list[Voice],
    phrases: list[str],
    noise: str | None,
    folder: Path,
    echo: Echo = ECHO,
    engine: Callable[[], Engine] = pocketsphinx,
) -> dict:
    """``engine`` makes the recognizer for each voice (a fresh one, as after a restart)."""
    c = load()
    u = Understander(c)
    cases: list[Case] = []
    speaking = [0.0, 0.0]  # compute seconds, room seconds, while the kiosk spoke
    for voice in voices:
        room = TimedRoom(echo=echo, limit=1e9)
        if noise is not None:
            room.noise = Noise(noise, folder)
            room.noise_level = SPEECH_RMS / 10 ** (15 / 20)
        kiosk = kiosk_in(
            room, engine(), barge_in=True, settings=ListenSettings(no_speech_timeout=4.0)
        )
        settle(kiosk, room)
        _time_speech(kiosk, room, speaking)
        yes = phrase_pcm("yes", voice, folder)
        hello = phrase_pcm("hello", voice, folder)
        for phrase in phrases:
            pcm = phrase_pcm(phrase, voice, folder)
            for moment in MOMENTS:
                for fraction in FRACTIONS:
                    case = Case(voice.id, phrase, moment, fraction)
                    _one(kiosk, room, u, c, case, pcm, yes, hello)
                    cases.append(case)
                    print(_line(case), flush=True)
        kiosk.voice.close()
    return _summary(cases, speaking)


def _time_speech(kiosk: VoiceKiosk, room: Room, speaking: list[float]) -> None:
    say_listening = kiosk.say_listening

    def timed(*args: Any) -> Any:
        # CPU time, not the wall clock: the budget is a share of a core, and benchmarks
        # here share the cores (by the wall clock, eight processes on two cores read 1.2)
        clock, start = time.process_time(), room.now
        try:
            return say_listening(*args)
        finally:
            speaking[0] += time.process_time() - clock
            speaking[1] += room.now - start

    kiosk.say_listening = timed  # type: ignore[method-assign]


def _one(
    kiosk: VoiceKiosk,
    room: TimedRoom,
    u: Understander,
    c: Any,
    case: Case,
    pcm: bytes,
    yes: bytes,
    hello: bytes,
) -> None:
    kiosk.engine.new_person()
    kiosk.person = [loudness(hello)]  # the patient woke the kiosk as loud as they speak
    room.forget_before(room.now - 5)
    if room.noise is not None:
        # Each case hears its own stretch of the room, whatever ran before it: noise
        # running on from case to case made one case's length move every later case's
        # noise, so two versions of the kiosk could not be compared case by case.
        key = f"{case.voice}|{case.phrase}|{case.moment}|{case.fraction}"
        room.noise.pos = stretch(key, 0) % room.noise.x.size
    d, actions, target = at_moment(case.moment, c, u)
    room.position += SAMPLE_RATE * 2  # a second between one case and the next
    start = room.now
    for a in actions[:target]:
        if isinstance(a, Say):
            start += kiosk.voice.render(a.text).seconds + room.margin
    sentence = kiosk.voice.render(actions[target].text).seconds  # type: ignore[union-attr]
    at = start + case.fraction * sentence
    end_of_phrase = at + seconds(pcm)
    room.say_at(at, pcm)
    room.limit = end_of_phrase + 60  # time for "Call 911", twice, to be said
    room.give_up = end_of_phrase + HEARD_WITHIN
    checks: list[str] = []
    listen = kiosk.listen

    def answering(action: Listen, dialog: Dialog, *rest: Any) -> Event:
        if action.turn == "check":  # "Did you say ...?": yes, they did
            checks.append(action.turn)
            room.say_at(room.now + 0.6, yes)
        return listen(action, dialog, *rest)

    kiosk.listen = answering  # type: ignore[method-assign]
    plays_before = len(room.plays)
    started_before = len(room.started)
    try:
        end: Finish | None = kiosk.converse(d, actions)
    except RoomClosed:
        end = None
    finally:
        kiosk.listen = listen  # type: ignore[method-assign]
    decision = end.decision if end is not None else None
    emergency = decision is not None and decision.disposition is Disposition.emergency
    by = end_of_phrase + HEARD_WITHIN
    case.heard = emergency and _started_within(room, started_before, by, 2)
    room.give_up = float("inf")
    case.at_once = case.heard and not checks
    case.ending = end.ending.value if end is not None else "no Call 911 within 30 s"
    plays = room.plays[plays_before:]
    target_play = plays[target] if len(plays) > target else None
    rendered = kiosk.voice.render(actions[target].text).seconds  # type: ignore[union-attr]
    case.cut = target_play is not None and target_play[1] < rendered - 0.05
    after = [(t, w) for t, w in room.started[started_before:] if t >= end_of_phrase - 0.3]
    if case.heard and after:
        t_next, w_next = after[0]
        case.room_delay = round(t_next - end_of_phrase, 2)
        fed = [w for t, w in room.delivered if t >= end_of_phrase]
        case.compute_delay = round(w_next - fed[0], 2) if fed else None


def _started_within(room: TimedRoom, first: int, by: float, last: int) -> bool:
    """Did the last ``last`` clips (the emergency guidance, twice) begin by ``by``?"""
    clips = room.started[first:]
    return len(clips) >= last and clips[-last][0] <= by


def _line(case: Case) -> str:
    what = "911 at once" if case.at_once else ("911 after check" if case.heard else "MISSED")
    delay = f"{case.delay:.2f} s" if case.delay is not None else "-"
    return (
        f"{case.voice:28} {case.moment:13} {case.fraction:.1f} {case.phrase[:34]:34} "
        f"{what:16} cut={'y' if case.cut else 'n'} next words after {delay} ({case.ending})"
    )


def _summary(cases: list[Case], speaking: list[float]) -> dict:
    n = len(cases)
    heard = [k for k in cases if k.heard]
    delays = [k.delay for k in heard if k.delay is not None]
    at_once = [k.delay for k in cases if k.at_once and k.delay is not None]
    by_moment = {
        m: f"{sum(k.heard for k in cases if k.moment == m)}/{sum(k.moment == m for k in cases)}"
        for m in MOMENTS
    }
    return {
        "cases": n,
        "heard": len(heard),
        "at_once": sum(k.at_once for k in cases),
        "cut_short": sum(k.cut for k in cases),
        "by_moment": by_moment,
        "median_next_words_s": round(statistics.median(delays), 2) if delays else None,
        "within_1s": sum(d <= 1.0 for d in delays),
        "at_once_within_1s": sum(d <= 1.0 for d in at_once),
        "speaking_rtf": round(speaking[0] / speaking[1], 3) if speaking[1] else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "details": [k.__dict__ for k in cases],
    }


# --- the kiosk's own echo -------------------------------------------------------------------


def _named_rule_counter(named: list[str]) -> None:
    """Note each utterance over the kiosk's voice that was let go only because it named
    a sign the kiosk was naming (kiosk/barge_in.py): what that rule is worth."""
    rule = voice_module.over_voice

    def counting(heard: Heard, red_flag_in: Any, read: Any, saying: tuple[str, ...] = ()) -> Any:
        cut = rule(heard, red_flag_in, read, saying)
        if cut is None and rule(heard, red_flag_in, read, ()) is not None:
            named.append(heard.text)
        return cut

    voice_module.over_voice = counting  # type: ignore[assignment]


def echo_sessions(
    sessions: int,
    per_room: int,
    seed: int,
    engine: Callable[[], Engine] = pocketsphinx,
) -> dict:
    rng = np.random.default_rng(seed)
    named: list[str] = []
    _named_rule_counter(named)
    heard: list[tuple[int, str, str]] = []
    speaking = [0.0, 0.0]
    session = [0]  # the one running now
    clock = time.monotonic()
    room_seconds = 0.0
    while session[0] < sessions:
        echo = Echo(
            delay=float(rng.uniform(0.02, 0.08)),
            gain_db=float(rng.uniform(-14, -6)),
            rt60=float(rng.uniform(0.2, 0.5)),
            seed=int(rng.integers(1 << 30)),
        )
        room = Room(echo=echo, limit=1e9)
        kiosk = kiosk_in(room, engine(), barge_in=True)
        _time_speech(kiosk, room, speaking)
        say, listen = kiosk.say, kiosk.listen

        def noting_say(*args: Any, _say: Any = say) -> Any:
            over = _say(*args)
            for what, event in (("over its voice", over.cut), ("kept to check", over.kept)):
                if event is not None:
                    heard.append((session[0], what, event.text))
            return over

        def noting_listen(*args: Any, _listen: Any = listen) -> Event:
            event = _listen(*args)
            if isinstance(event, Heard):
                heard.append((session[0], "listen turn", event.text))
            return event

        kiosk.say, kiosk.listen = noting_say, noting_listen  # type: ignore[method-assign]
        for _ in range(min(per_room, sessions - session[0])):
            start = room.now
            with contextlib.suppress(RoomClosed):
                kiosk.session()
            room_seconds += room.now - start
            room._placed = room._placed[-4:]
            session[0] += 1
        kiosk.voice.close()
        print(f"{session[0]} sessions, {len(heard)} heard from the kiosk itself", flush=True)
    return {
        "sessions": session[0],
        "heard_from_itself": len(heard),
        "let_go_as_named_signs": named,
        "what": heard,
        "room_hours": round(room_seconds / 3600, 2),
        "wall_seconds": round(time.monotonic() - clock, 1),
        "speaking_rtf": round(speaking[0] / speaking[1], 3) if speaking[1] else None,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    recognizer = argparse.ArgumentParser(add_help=False)
    recognizer.add_argument(
        "--engine", choices=["pocketsphinx", "vosk", "auto"], default="pocketsphinx"
    )
    recognizer.add_argument(
        "--vosk-model", type=Path, help="e.g. models/vosk-model-small-en-us-0.15"
    )
    sub = p.add_subparsers(dest="what", required=True)
    o = sub.add_parser("over-voice", parents=[recognizer])
    o.add_argument("--voices", choices=["tune", "held-out"], default="held-out")
    o.add_argument("--noise", choices=["clean", "15"], default="clean")
    o.add_argument("--limit", type=int, default=0, help="only this many phrases")
    o.add_argument("--voice", type=int, help="only this one of the set's voices (index)")
    o.add_argument("--echo", choices=["on", "off"], default="on")
    o.add_argument("--json", type=Path)
    e = sub.add_parser("echo", parents=[recognizer])
    e.add_argument("--sessions", type=int, default=200)
    e.add_argument("--per-room", type=int, default=10)
    e.add_argument("--seed", type=int, default=0)
    e.add_argument("--json", type=Path)
    a = p.parse_args()
    folder = Path(os.environ.get("KIOSK_BENCH_AUDIO", "/tmp/kiosk-bench-audio"))
    folder.mkdir(parents=True, exist_ok=True)

    used: set[str] = set()  # what "auto" chose, for the record

    def engine() -> Engine:
        made = load_engine(a.engine, a.vosk_model)
        used.add(made.name)
        return made

    if a.what == "over-voice":
        held = a.voices == "held-out"
        voices = HELD_OUT_VOICES if held else TUNE_VOICES
        phrases = HELD_OUT_PHRASES if held else TUNE_PHRASES
        noise = None if a.noise == "clean" else ("B" if held else "A")
        if a.voice is not None:
            voices = [voices[a.voice]]
        echo = ECHO if a.echo == "on" else NO_ECHO
        r = over_voice(voices, phrases[: a.limit or None], noise, folder, echo, engine)
        print(
            f"{a.voices} voices and phrases, {a.noise}: heard {r['heard']}/{r['cases']} "
            f"({r['at_once']} at once), cut short {r['cut_short']}, by moment {r['by_moment']}; "
            f"next words within 1 s {r['within_1s']}/{r['heard']} "
            f"(median {r['median_next_words_s']} s), at once within 1 s "
            f"{r['at_once_within_1s']}/{r['at_once']}; canceller + recognizer while "
            f"speaking RTF {r['speaking_rtf']} ({r['machine']})"
        )
    else:
        r = echo_sessions(a.sessions, a.per_room, a.seed, engine)
        print(
            f"{r['sessions']} sessions with echo and nobody there ({r['room_hours']} h of "
            f"room time, {r['wall_seconds']:.0f} s): {r['heard_from_itself']} things heard "
            f"from the kiosk itself ({len(r['let_go_as_named_signs'])} more let go only as "
            f"signs it was naming: {r['let_go_as_named_signs']}); canceller + recognizer "
            f"while speaking RTF {r['speaking_rtf']} ({r['machine']})"
        )
    r["engine"] = ", ".join(sorted(used))
    print(f"recognizer: {r['engine']}")
    if a.json:
        a.json.write_text(json.dumps(r, indent=1, default=str))


if __name__ == "__main__":
    main()
