"""Small talk near the idle kiosk, through the real recognizer, the real speech output
and the real outcome log; counted with ``kiosk report``, as the pharmacy would. The
room is tests/room.py's stand-in (room time, not wall-clock time); the real PortAudio
path with chatter is in test_alsa_kiosk.py. The hour-long figure is
bench/chatter_bench.py's (README); this is the floor CI holds: a few minutes of the tune
crowd's chatter start nothing, and someone who then speaks to the kiosk is answered."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kiosk.audio import clip16, read_wav
from kiosk.catalogue import load
from kiosk.events import Ending, Finish, Say
from kiosk.outcomes import OutcomeLog
from kiosk.recognizer import SAMPLE_RATE
from kiosk.rules import Disposition
from tests.chatter import TUNE, chatter
from tests.pharmacy import Noise, said
from tests.room import Room, RoomClosed, kiosk_in, mix
from tests.synth import Voice as Patient
from tests.synth import available

pytestmark = pytest.mark.skipif(
    not (available("flite") and available("espeak-ng")), reason="needs flite and espeak-ng"
)

CAT = load()
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class TimedRoom(Room):
    """The stand-in room, noting the room time of everything the kiosk says."""

    said_at: list[float] = field(default_factory=list)

    def play(self, samples: np.ndarray, rate: int) -> None:
        self.said_at.append(self.now)
        super().play(samples, rate)


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("chatter-audio")


def run_kiosk(
    room: Room, state: Path, sessions: int | None = None, said: list[str] | None = None
) -> list[Finish]:
    """The kiosk in the room, session after session; ``said`` gets every sentence it
    said, in order."""
    log = OutcomeLog(state / "outcomes.sqlite3")
    ends: list[Finish] = []

    def record(end: Finish, started: object, seconds: float) -> None:
        ends.append(end)
        log.record(end, started, seconds)  # type: ignore[arg-type]

    kiosk = kiosk_in(room, on_finish=record)
    if said is not None:
        say = kiosk.say

        def saying(action: Say, *rest: Any) -> Any:
            said.append(action.text)
            return say(action, *rest)

        kiosk.say = saying  # type: ignore[method-assign]
    try:
        kiosk.run(sessions)
    except RoomClosed:
        pass  # the room's time is up
    finally:
        kiosk.voice.close()
    return ends


def report(state: Path) -> list[str]:
    """`kiosk report`'s rows (one per day), as the pharmacy reads them."""
    out = subprocess.run(
        [str(Path(sys.executable).parent / "kiosk"), "report"],
        env={**os.environ, "KIOSK_STATE_DIR": str(state)},
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    )
    return out.stdout.splitlines()[1:]


def speech(text: str, folder: Path) -> bytes:
    return read_wav(said(text, Patient("flite", "slt"), folder / f"{text}.wav", SAMPLE_RATE))


def then_someone_says(background: bytes, words: bytes, at: float) -> bytes:
    """The room's recording with ``words`` said at ``at`` seconds, over whatever else."""
    start = int(at * SAMPLE_RATE) * 2
    return mix(background, bytes(start) + words)


def test_three_minutes_of_small_talk_start_nothing(tmp_path: Path, audio: Path) -> None:
    """Before the kiosk woke on purpose, five minutes of this chatter started two
    sessions, both ending in "Call 911" said to nobody."""
    room = TimedRoom(background=chatter(TUNE, 180, audio, seed=0), limit=180)
    ends = run_kiosk(room, tmp_path)
    assert room.said_at == []  # not a word to the chatter
    assert ends == []
    assert report(tmp_path) == []  # nothing recorded: no session was started


def walks_up(
    tmp_path: Path, audio: Path, words: str, sessions: int = 1
) -> tuple[TimedRoom, list[Finish]]:
    background = chatter(TUNE, 60, audio, seed=3)
    room = TimedRoom(
        background=then_someone_says(background, speech(words, audio), at=62.0), limit=240
    )
    return room, run_kiosk(room, tmp_path, sessions)


def test_someone_who_says_hello_after_the_chatter_is_greeted(tmp_path: Path, audio: Path) -> None:
    room, ends = walks_up(tmp_path, audio, "hello")
    assert len(ends) == 1 and ends[0].ending is Ending.no_response  # then said nothing
    assert room.said_at[0] >= 62.0  # nothing was said to the chatter before it
    assert len(report(tmp_path)) == 1


def test_a_red_flag_said_to_the_idle_kiosk_gets_call_911_at_once(
    tmp_path: Path, audio: Path
) -> None:
    room, ends = walks_up(tmp_path, audio, "I have chest pain and I can't breathe")
    assert len(ends) == 1
    decision = ends[0].decision
    assert decision is not None and decision.disposition is Disposition.emergency
    assert room.said_at[0] >= 62.0
    assert len(room.said_at) == 2  # the emergency guidance, twice: no greeting, no check


def test_a_red_flag_said_again_to_the_idle_kiosk_is_checked_and_acted_on(
    tmp_path: Path, audio: Path
) -> None:
    """Someone tells the idle kiosk "my legs went numb"; its free decode ("my legs
    lennon") names neither the sign nor the kiosk, so it is let go, as small talk made
    into a red flag would be. Not answered, they say it again: now it is checked ("did
    you mention...?"), they say yes, and the kiosk gives the emergency guidance."""
    words, yes = speech("my legs went numb", audio), speech("yes", audio)
    again = 1.5 + len(words) / 2 / SAMPLE_RATE + 4.0
    room = TimedRoom(limit=120)
    room.say_at(1.5, words)
    room.say_at(again, words)
    check = CAT.say("check_red_flag", what=CAT.label("limb_numbness"))
    said_texts: list[str] = []
    ends: list[Finish] = []
    kiosk = kiosk_in(room, on_finish=lambda end, *_: ends.append(end))
    say = kiosk.say

    def answering(action: Say, *rest: Any) -> Any:
        said_texts.append(action.text)
        over = say(action, *rest)
        if action.text == check:
            room.say_at(room.now + 0.6, yes)
        return over

    kiosk.say = answering  # type: ignore[method-assign]
    try:
        kiosk.run(1)
    finally:
        kiosk.voice.close()
    assert room.said_at[0] >= again  # the first saying got nothing
    assert said_texts[0] == check
    decision = ends[0].decision
    assert decision is not None and decision.disposition is Disposition.emergency


def test_someone_who_says_hello_in_a_pharmacys_babble_is_greeted(
    tmp_path: Path, audio: Path
) -> None:
    """Regression (bench/wake_bench.py, 15 dB): the babble of the room had started an
    utterance long before anyone spoke to the idle kiosk, and kept it going, so "hello"
    came out of both decodes inside seconds of decoded babble and was never answered
    (calls greeted 0/10 on the tune voices). A voice 15 dB over the babble starts the
    utterance again (kiosk/endpointer.py), and "hello" is heard as "hello"."""
    hello = read_wav(said("hello", Patient("flite", "slt"), audio / "hello-15.wav", SAMPLE_RATE))
    x = np.frombuffer(hello, dtype=np.int16).astype(np.float64)
    level = np.sqrt(np.mean(x**2))
    babble = Noise("A", audio).take(SAMPLE_RATE * 30, level / 10 ** (15 / 20))  # tune noise
    background = clip16(babble).tobytes()
    room = TimedRoom(background=then_someone_says(background, hello, at=8.0), limit=240)
    texts: list[str] = []
    ends = run_kiosk(room, tmp_path, 1, texts)
    assert room.said_at and 8.0 <= room.said_at[0] <= 11.0, room.said_at
    assert texts[0] == CAT.say("greeting")  # greeted: not a check of a red flag
    assert len(ends) == 1 and ends[0].ending is Ending.no_response  # then said nothing
