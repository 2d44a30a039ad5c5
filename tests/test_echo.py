"""The kiosk's own voice comes back into its microphone (tests/room.py ``Echo``: 20-80
ms late, attenuated, with a little reverberation): it must never count as an answer.
Sessions with nobody there, so anything heard came from the kiosk itself: neither in a
listen turn (the half-duplex margin keeps the echo's tail out) nor, with barge-in, while
it talks (the echo canceller and kiosk/barge_in.py keep it from cutting itself short).
bench/barge_in_bench.py runs 200 such sessions; these are a few."""

from __future__ import annotations

from typing import Any

import pytest

from kiosk.catalogue import load
from kiosk.events import Ending, Event, Heard
from kiosk.voice import ListenSettings, VoiceKiosk
from tests.room import Echo, Room, kiosk_in

CAT = load()


def heard_from_nobody(kiosk: VoiceKiosk, sessions: int) -> list[Event]:
    """Run sessions with nobody there; everything the kiosk took as said, in a listen
    turn or over its own voice."""
    heard: list[Event] = []
    listen, say = kiosk.listen, kiosk.say

    def noting_listen(*args: Any) -> Event:
        event = listen(*args)
        heard.append(event)
        return event

    def noting_say(*args: Any) -> Any:
        over = say(*args)
        heard.extend(e for e in (over.cut, over.kept) if e is not None)
        return over

    kiosk.listen = noting_listen  # type: ignore[method-assign]
    kiosk.say = noting_say  # type: ignore[method-assign]
    try:
        for _ in range(sessions):
            end = kiosk.session()
            assert end is not None and end.ending is Ending.no_response
    finally:
        kiosk.voice.close()
    return [e for e in heard if isinstance(e, Heard)]


ECHOES = [
    Echo(delay=0.02, gain_db=-6),
    Echo(delay=0.05, gain_db=-10),
    Echo(delay=0.08, gain_db=-6, rt60=0.5),
]
IDS = ["20ms-6dB", "50ms-10dB", "80ms-6dB-rt0.5"]


@pytest.mark.parametrize("echo", ECHOES, ids=IDS)
def test_the_kiosks_own_voice_is_never_an_answer(echo: Echo) -> None:
    room = Room(echo=echo, limit=600)
    kiosk = kiosk_in(room, settings=ListenSettings(no_speech_timeout=2.0))
    assert heard_from_nobody(kiosk, 2) == []


@pytest.mark.parametrize("echo", ECHOES, ids=IDS)
def test_listening_while_it_talks_it_never_hears_itself(echo: Echo) -> None:
    room = Room(echo=echo, limit=600)
    kiosk = kiosk_in(room, barge_in=True, settings=ListenSettings(no_speech_timeout=2.0))
    assert heard_from_nobody(kiosk, 2) == []
    assert len(room.plays) > 10  # it did talk, and listened all the while
