"""The kiosk's own voice comes back into its microphone (tests/room.py ``Echo``: 20-80
ms late, attenuated, with a little reverberation): it must never count as an answer.
Sessions with nobody there, so anything heard came from the kiosk itself. The kiosk is
half-duplex (the microphone opens once playback and a short margin are over), so this
guards the margin; a barge-in kiosk, listening while it talks, will need its echo
canceller to keep it true."""

from __future__ import annotations

import pytest

from kiosk.catalogue import load
from kiosk.events import Ending, Event, Heard, Listen
from kiosk.voice import ListenSettings
from tests.room import Echo, Room, kiosk_in

CAT = load()


@pytest.mark.parametrize(
    "echo",
    [
        Echo(delay=0.02, gain_db=-6),
        Echo(delay=0.05, gain_db=-10),
        Echo(delay=0.08, gain_db=-6, rt60=0.5),
    ],
    ids=["20ms-6dB", "50ms-10dB", "80ms-6dB-rt0.5"],
)
def test_the_kiosks_own_voice_is_never_an_answer(echo: Echo) -> None:
    room = Room(echo=echo, limit=600)
    kiosk = kiosk_in(room, settings=ListenSettings(no_speech_timeout=2.0))
    heard: list[Event] = []
    listen = kiosk.listen

    def noting(action: Listen, dialog: object) -> Event:
        event = listen(action, dialog)  # type: ignore[arg-type]
        heard.append(event)
        return event

    kiosk.listen = noting  # type: ignore[method-assign]
    try:
        for _ in range(2):
            end = kiosk.session()
            assert end is not None and end.ending is Ending.no_response
    finally:
        kiosk.voice.close()
    assert heard and not [e for e in heard if isinstance(e, Heard)]
