"""Written patient vignettes, end to end through the real ``kiosk chat --json`` process.

Each vignette (tests/vignettes/*.toml) names its expected disposition, the rules that
must fire and the seed it is traced to. Red-flag sensitivity must be 100%, and no
self-care case may come out as an emergency.
"""

from __future__ import annotations

import pytest

from kiosk.rules import ALL_RULES, S000, S001, S002, S003, S004
from tests.kiosk_process import converse
from tests.sessions import load_vignettes

SEEDS = {S000, S001, S002, S003, S004}


VIGNETTES = load_vignettes()


def test_enough_vignettes_covering_every_rule() -> None:
    assert len(VIGNETTES) >= 40
    ids = [v["id"] for v in VIGNETTES]
    assert len(ids) == len(set(ids)), "duplicate vignette ids"
    covered = {r for v in VIGNETTES for r in v.get("rules", [])}
    missing = {r.id for r in ALL_RULES} - covered
    assert not missing, f"rules without a vignette: {sorted(missing)}"
    for v in VIGNETTES:
        assert v["seed"] in SEEDS or v["seed"].startswith("NICE"), v["id"]


@pytest.mark.parametrize("v", VIGNETTES, ids=[v["id"] for v in VIGNETTES])
def test_vignette(v: dict) -> None:
    t = converse(v.get("answers", {}), default=v.get("default", "no"))
    end = t.end
    assert end["event"] == "end"
    got = end["disposition"]
    # Safety first: these two say which way a failure points.
    if v["expect"] == "emergency":
        assert got == "emergency", f"missed red flag: {got} {end['rules']}"
        assert t.said_after_last_listen()[0].startswith("Call 911 now")
        assert "readback" not in t.asked, "an emergency waited for a read-back"
    if v["expect"] == "self_care":
        assert got != "emergency", "self-care case sent to 911"
    assert got == v["expect"], f"{got} {end['rules']}"
    for rule in v.get("rules", []):
        assert rule in end["rules"], f"{rule} did not fire: {end['rules']}"
    for q in v.get("not_asked", []):
        assert q not in t.asked, f"asked {q} again although it was already answered"
