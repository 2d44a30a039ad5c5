"""Load the phrasing corpora (tests/phrasings/*.toml) and put each case to the kiosk.

The corpora were written without looking at the catalogue's phrase lists. Cases with
``split = "tune"`` may be looked at while improving the catalogue; ``held_out`` ones are
never tuned on and measure how far the understanding generalises.
"""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.answers import apply, mention_updates, read_answer
from kiosk.catalogue import Catalogue
from kiosk.dialog import Dialog
from kiosk.events import Action, Finish, Heard, Listen, Priority, Say
from kiosk.symptoms import SymptomReport, get_value
from kiosk.understanding import Understander

HERE = Path(__file__).parent / "phrasings"
WEDNESDAY = date(2026, 11, 18)


def cases(name: str, split: str | None = None) -> list[dict[str, Any]]:
    """The cases of one corpus: ``name.toml`` and later batches ``name_*.toml``."""
    every: list[dict[str, Any]] = []
    for path in [HERE / f"{name}.toml", *sorted(HERE.glob(f"{name}_*.toml"))]:
        with path.open("rb") as f:
            every += tomllib.load(f)["case"]
    return [c for c in every if split is None or c["split"] == split]


def case_id(case: dict[str, Any]) -> str:
    return f"{case.get('field') or case.get('at', 'open')}:{case['text'][:40]}"


def answer_value(c: Catalogue, u: Understander, field: str, text: str) -> object:
    """What the answer ``text`` to the question about ``field`` puts in the report;
    the string "not understood" when the kiosk would ask again."""
    q = c.question_for(field)
    assert q is not None, field
    heard = u(text, expecting=q.kind, today=WEDNESDAY)
    updates = read_answer(q, heard)
    if updates is None:
        return "not understood"
    report = apply(SymptomReport(), mention_updates(heard, skip=q.fields).updates)
    report = apply(report, updates)
    value = get_value(report, field)
    if isinstance(value, list):
        return sorted(v.value for v in value)
    return getattr(value, "value", value)


def _neutral(at: str) -> dict[str, str]:
    """Answers that carry a session to the question about ``at`` without settling it."""
    opening = "my upper back is sore"
    if at == "locations":
        opening = "my back is sore"
    return {
        "open": opening,
        "severity": "eight" if at == "onset" else "three",
        "duration": "three days",
        "home_care_helped": "yes",
    }


# Questions the dialog never reaches with neutral answers (risk factors matter only
# with pain that already needs a doctor): their remarks are put at the last question.
_FALLBACK = "known_cause"


def say_at(c: Catalogue, u: Understander, at: str, text: str) -> list[Action]:
    """Run a session to the question that asks about ``at`` and say ``text`` there."""
    for target in (at, _FALLBACK):
        d = Dialog(c, u, WEDNESDAY)
        neutral = _neutral(target)
        actions = d.start()
        for _ in range(60):
            listen = next((a for a in actions if isinstance(a, Listen)), None)
            if listen is None:
                break
            q = None if listen.turn in ("open", "readback", "fix") else c.question(listen.turn)
            if q is not None and target in q.fields:
                return d.handle(Heard(text))
            actions = d.handle(Heard(neutral.get(listen.turn, "no")))
    raise AssertionError(f"no question about {at} was asked")


def is_emergency(actions: list[Action]) -> bool:
    first = actions[0] if actions else None
    return (
        isinstance(first, Say)
        and first.priority is Priority.emergency
        and first.text.startswith("Call 911 now")
    )


def finish(actions: list[Action]) -> Finish | None:
    return next((a for a in actions if isinstance(a, Finish)), None)
