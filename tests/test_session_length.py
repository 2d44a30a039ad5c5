"""A conversation people finish: sessions are short, and short never costs safety.

Every written vignette runs through the real dialog in-process. Targets (issue 8),
median over the vignettes: a self-care or doctor session in at most 15 listen turns
and 300 words spoken by the kiosk. Every non-emergency session asked about, or heard
an answer to, every emergency sign that could still matter.
"""

from __future__ import annotations

import statistics

import pytest

from kiosk.catalogue import load
from kiosk.rules import RULES, Disposition, worst_case
from kiosk.symptoms import Answer, get_value
from kiosk.understanding import Understander
from tests.sessions import Session, load_vignettes, run_session

CAT = load()
VIGNETTES = load_vignettes()


@pytest.fixture(scope="module")
def sessions() -> dict[str, Session]:
    u = Understander(CAT)
    return {
        v["id"]: run_session(CAT, u, v.get("answers", {}), v.get("default", "no"))
        for v in VIGNETTES
    }


def _by(sessions: dict[str, Session], expect: str) -> list[Session]:
    return [sessions[v["id"]] for v in VIGNETTES if v["expect"] == expect]


@pytest.mark.parametrize("expect", ["self_care", "doctor"])
def test_median_session_is_short(sessions: dict[str, Session], expect: str) -> None:
    group = _by(sessions, expect)
    assert statistics.median(s.turns for s in group) <= 15
    assert statistics.median(s.words for s in group) <= 300


def test_emergencies_end_no_slower_than_before(sessions: dict[str, Session]) -> None:
    # Before the grouped questions: median 5 listen turns to "Call 911" (issue 8 baseline).
    assert statistics.median(s.turns for s in _by(sessions, "emergency")) <= 5


@pytest.mark.parametrize("v", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_every_emergency_sign_was_asked_or_answered(sessions: dict[str, Session], v: dict) -> None:
    s = sessions[v["id"]]
    assert s.end is not None and s.end.decision is not None
    if s.end.decision.disposition is Disposition.emergency:
        return
    report = s.end.report
    asked_fields = {
        f for q in s.asked if q in {x.id for x in CAT.questions} for f in CAT.question(q).fields
    }
    for rule in RULES:
        if rule.level is not Disposition.emergency:
            continue
        for name in rule.fields:
            value = get_value(report, name)
            answered = value not in (Answer.unknown, None) and value != "unknown"
            if answered or name in asked_fields or name == "emergency_sign_unspecified":
                continue
            # Not asked and not known: only acceptable when the rule cannot fire anyway.
            assert not rule.test(worst_case(report)), f"{rule.id}: {name} never asked"
