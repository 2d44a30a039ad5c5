"""The spoken benchmark's sample that CI runs, with floors (issue 9).

Whole sessions through the real listen loop and pocketsphinx, spoken by two
synthesized tune voices in pharmacy noise (babble, hum, pink noise) at 15 dB SNR: no
self-care patient is told to call 911, and every emergency patient is, after at most
one check, except the named known misses below. Deterministic: the same recordings,
the same sessions, whatever order they run in (sox's dither used to be random, and
each session inherited the previous ones' cepstral mean). The full grid (six
voices, held-out column, four noise levels) is bench/spoken_bench.py; this is the
slice that must never regress. Nothing is mocked: the patient is a synthesizer, the
room is the recording the recognizer hears.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pharmacy import TUNE_VOICES, Outcome, Pharmacy
from tests.sessions import load_vignettes
from tests.synth import available

pytestmark = pytest.mark.skipif(not available("flite"), reason="flite is not installed")

SNR = 15.0
VOICES = [TUNE_VOICES[0], TUNE_VOICES[1]]  # flite slt (16 kHz) and rms (44.1 kHz)
VIGNETTES = load_vignettes()
SELF_CARE = [v for v in VIGNETTES if v["expect"] == "self_care"][::2]
EMERGENCIES = [v for v in VIGNETTES if v["expect"] == "emergency"][::5]
KNOWN_MISSES: dict[tuple[str, str], str] = {}
"""Emergencies this sample misses, each with its cause: named, so a new miss fails the
floor, and strict, so a fixed one is taken off the list."""
# ("flite-slt-r1", "e_jaw_direct") was here: "uh huh, up into my jaw sometimes" heard as
# "none of into my jaw sometimes", a "no" only the grammar heard; the lost-"no" rule
# (kiosk/dialog.py) now asks again.


@pytest.fixture(scope="module")
def pharmacy(tmp_path_factory: pytest.TempPathFactory) -> Pharmacy:
    return Pharmacy("pocketsphinx", None, Path(tmp_path_factory.mktemp("pharmacy")))


def _sessions(pharmacy: Pharmacy, vignettes: list[dict], voice: tuple) -> list[Outcome]:
    out = [pharmacy.session(v, *voice, held_out=False, snr=SNR) for v in vignettes]
    for o in out:  # in the log, for when a floor fails
        print(o.voice, o.vignette, o.spoken, o.ending, o.turns, o.confirmations)
    return out


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v[0].id)
def test_no_self_care_patient_is_told_to_call_911(pharmacy: Pharmacy, voice: tuple) -> None:
    ended = {
        o.vignette: (o.spoken, o.ending, o.turns) for o in _sessions(pharmacy, SELF_CARE, voice)
    }
    assert all(spoken != "emergency" for spoken, _, _ in ended.values()), ended
    assert all(ending == "guidance" for _, ending, _ in ended.values()), ended
    assert all(turns <= 30 for _, _, turns in ended.values()), ended


@pytest.mark.parametrize("voice", VOICES, ids=lambda v: v[0].id)
def test_emergency_patients_are_told_to_call_911(pharmacy: Pharmacy, voice: tuple) -> None:
    out = _sessions(pharmacy, EMERGENCIES, voice)
    ended = {o.vignette: (o.spoken, o.confirmations) for o in out}
    missed = {o.vignette for o in out if o.spoken != "emergency"}
    assert missed == {v for (who, v) in KNOWN_MISSES if who == voice[0].id}, ended
    assert all(o.ending == "guidance" for o in out), ended
    assert all(o.confirmations <= 1 for o in out), ended  # at most one question
