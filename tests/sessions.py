"""Drive the dialog in-process through a written vignette, counting what a person lives
through: listen turns, and the words the kiosk says."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from kiosk.catalogue import Catalogue
from kiosk.dialog import Dialog
from kiosk.events import Finish, Heard, Listen, Say, Silence
from kiosk.understanding import Understander
from tests.kiosk_process import pick_answer

VIGNETTES = Path(__file__).parent / "vignettes"
WEDNESDAY = date(2026, 11, 18)


def load_vignettes() -> list[dict[str, Any]]:
    out = []
    for path in sorted(VIGNETTES.glob("*.toml")):
        with path.open("rb") as f:
            for v in tomllib.load(f)["vignette"]:
                v["file"] = path.name
                out.append(v)
    return out


@dataclass
class Session:
    asked: list[str] = field(default_factory=list)
    said: list[str] = field(default_factory=list)
    end: Finish | None = None

    @property
    def turns(self) -> int:
        return len(self.asked)

    @property
    def words(self) -> int:
        return sum(len(line.split()) for line in self.said)


def run_session(
    c: Catalogue, u: Understander, answers: dict[str, Any], default: str = "no"
) -> Session:
    d = Dialog(c, u, WEDNESDAY)
    s = Session()
    used: dict[str, int] = {}
    actions = d.start()
    for _ in range(200):
        s.said += [a.text for a in actions if isinstance(a, Say)]
        end = next((a for a in actions if isinstance(a, Finish)), None)
        if end:
            s.end = end
            return s
        listen = next(a for a in actions if isinstance(a, Listen))
        s.asked.append(listen.turn)
        given = pick_answer(listen.turn, answers, default, used)
        actions = d.handle(Heard(given) if given else Silence())
    raise AssertionError("session did not end")
