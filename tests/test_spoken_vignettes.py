"""The written vignettes, spoken: every answer is synthesized speech that goes through
``kiosk chat --json --wav`` (recognizer -> understanding -> dialog -> disposition).

English speech runs on pocketsphinx here (the English Vosk model cannot be downloaded
in CI). All emergency vignettes are run, and a sample of the others. Where the
recognizer mishears a red flag, the vignette is marked with what it heard: those are
recognition limits to work on, listed in the README, not understanding defects (the
same vignettes pass as text).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.spoken import converse_spoken, heard
from tests.synth import Voice, available
from tests.test_vignettes import VIGNETTES

pytestmark = pytest.mark.skipif(not available("flite"), reason="flite is not installed")

PATIENT = Voice("flite", "slt")
MISHEARD = {
    "e_cold_sweat_unprompted": "'broke out in a cold sweat' heard as 'broke out in a comes leg'",
    # e_numb_fingers_leg_direct was here ("uh huh, in my fingers..." heard as "have in
    # my fingers..."): it has passed (xpass) in every full run since 98a5c72.
}
SAMPLE = [
    "u_pins_and_needles_direct",
    "u_after_flu_in_opening",
    "d_ten_days_direct",
    "d_readback_two_weeks",
    "s_desk_three_days",
    "s_chest_is_fine",
]


def _cases() -> list[object]:
    cases = []
    for v in VIGNETTES:
        if v["expect"] != "emergency" and v["id"] not in SAMPLE:
            continue
        marks = []
        if v["id"] in MISHEARD:
            marks.append(pytest.mark.xfail(reason=MISHEARD[v["id"]], strict=False))
        cases.append(pytest.param(v, id=v["id"], marks=marks))
    return cases


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("spoken")


@pytest.mark.parametrize("v", _cases())
def test_spoken_vignette(v: dict, recordings: Path) -> None:
    # Asked "did you mention ...?" the person answers truthfully.
    answers = {"check": "yes" if v["expect"] == "emergency" else "no", **v.get("answers", {})}
    t = converse_spoken(answers, PATIENT, recordings, default=v.get("default", "no"))
    got = t.end["disposition"]
    assert got == v["expect"], f"{got} {t.end['rules']}; heard {heard(t)}"
    if got == "emergency":
        assert t.said_after_last_listen()[0].startswith("Call 911 now")


def test_sample_covers_every_other_disposition() -> None:
    by_id = {v["id"]: v["expect"] for v in VIGNETTES}
    assert {by_id[i] for i in SAMPLE} == {"urgent", "doctor", "self_care"}


def test_a_spoken_stop_is_confirmed_and_no_carries_on(recordings: Path) -> None:
    """Through the real recognizer: "stop" asks "Do you want to stop?"; "no" goes on to
    guidance (a misheard "stop" must never end a session without it)."""
    answers = {
        "open": "my upper back hurts for two days",
        "heart_lungs": ["stop", "no"],
        "confirm": "no",
        "severity": "three",
        "home_care_helped": "yes",
        "known_cause": "yes",
        "readback": "yes",
    }
    t = converse_spoken(answers, PATIENT, recordings)
    assert "confirm" in t.asked, heard(t)
    assert t.end["ended_by"] == "guidance", heard(t)
