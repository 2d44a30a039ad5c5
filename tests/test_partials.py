"""A red flag in the partial results that the whole utterance lost (kiosk/partials.py):
the rule on text, and the whole voice kiosk with the real recognizer on real audio."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pytest

from kiosk.audio import clip16, read_wav
from kiosk.catalogue import load
from kiosk.dialog import Dialog
from kiosk.events import Heard, Listen, Silence
from kiosk.partials import StablePartial, lost_in_final
from kiosk.rules import Disposition
from kiosk.understanding import Understander
from kiosk.voice import ListenSettings
from tests.room import Room, kiosk_in
from tests.synth import Voice, available, say

CAT = load()
TODAY = date(2026, 11, 18)


@pytest.fixture(scope="module")
def dialog() -> Dialog:
    d = Dialog(CAT, Understander(CAT), TODAY)
    d.start()
    return d


def test_a_red_flag_must_be_in_partials_in_a_row() -> None:
    stable = StablePartial(2)
    assert [stable.update(f) for f in (True, False, True, True, True)] == [
        False,
        False,
        False,
        True,
        True,
    ]


def test_nothing_flagged_the_final_result_stands(dialog: Dialog) -> None:
    final = Heard("my upper back hurts", spoken=True)
    assert lost_in_final(final, None, dialog.red_flag_in) is final
    assert isinstance(lost_in_final(Silence(), None, dialog.red_flag_in), Silence)


def test_a_final_result_with_a_red_flag_of_its_own_stands(dialog: Dialog) -> None:
    flagged = Heard("my chest pain", spoken=True, second="my daddy you")
    final = Heard("i can't breathe", spoken=True, second="i can't breathe")
    assert lost_in_final(final, flagged, dialog.red_flag_in) is final


@pytest.mark.parametrize("final", [Heard("my chest idea what i cough", spoken=True), Silence()])
def test_a_red_flag_the_final_result_lost_goes_instead_and_is_checked(
    dialog: Dialog, final: Heard | Silence
) -> None:
    flagged = Heard("my chest pain", spoken=True, second="my daddy you")
    got = lost_in_final(final, flagged, dialog.red_flag_in)
    assert got is flagged
    d = Dialog(CAT, Understander(CAT), TODAY)
    d.start()
    actions = d.handle(got)
    # checked, not acted on at once: the other decode did not carry it
    assert any(isinstance(a, Listen) and a.turn == "check" for a in actions)
    assert not d.finished


@pytest.mark.skipif(not available("flite"), reason="flite is not installed")
def test_a_red_flag_only_the_partials_carried_is_checked_then_acted_on(tmp_path: Path) -> None:
    """ "My chest feels tight" in flite's kal voice, answering the open question: the
    partials said "my chest pain" block after block (the other decode: "my daddy you"),
    and the whole utterance came out "my chest idea what i cough", which carries
    nothing; the kiosk went on to its next question. Now it checks ("Did you
    mention...?") and, on "yes", gives the emergency guidance."""
    kal = Voice("flite", "kal")
    words = np.frombuffer(read_wav(say("my chest feels tight", kal, tmp_path / "a.wav")), np.int16)
    loud = words * 4000.0 / np.sqrt(np.mean(words.astype(np.float64) ** 2))  # RMS 4000
    room = Room(limit=120)
    room.replies = [
        clip16(loud).tobytes(),
        read_wav(say("yes", kal, tmp_path / "yes.wav")),
    ]
    k = kiosk_in(room, settings=ListenSettings(no_speech_timeout=3.0))
    d = Dialog(CAT, k.understander, TODAY)
    listen = next(a for a in d.start() if isinstance(a, Listen))
    try:
        heard = k.listen(listen, d)
        assert isinstance(heard, Heard)
        actions = d.handle(heard)
        assert any(isinstance(a, Listen) and a.turn == "check" for a in actions)
        end = k.converse(d, actions)
    finally:
        k.voice.close()
    assert end is not None and end.decision is not None
    assert end.decision.disposition is Disposition.emergency
