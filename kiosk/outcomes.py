"""The only lasting record: an anonymous outcome per session (day, hour, how it
ended, disposition, ids of the rules that fired, length). No words, no audio, no
report contents. SQLite in WAL mode with full sync, so a power cut loses nothing that
was already written."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import closing
from datetime import datetime
from pathlib import Path

from kiosk.events import Finish

SCHEMA = """
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY,
    day TEXT NOT NULL,          -- YYYY-MM-DD
    hour INTEGER NOT NULL,      -- 0-23
    ended_by TEXT NOT NULL,     -- guidance | stopped | no_response
    disposition TEXT,           -- emergency | urgent | doctor | self_care | NULL
    rules TEXT NOT NULL,        -- JSON list of rule ids
    seconds REAL NOT NULL       -- session length
)
"""


class OutcomeLog:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        with closing(self._connect()) as db:
            db.execute("PRAGMA journal_mode=WAL")
            db.execute(SCHEMA)
            db.commit()

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=10)
        db.execute("PRAGMA synchronous=FULL")
        return db

    def record(self, finish: Finish, started: datetime, seconds: float) -> None:
        decision = finish.decision
        row = (
            started.date().isoformat(),
            started.hour,
            finish.ending.value,
            decision.disposition.value if decision else None,
            json.dumps(list(decision.rule_ids) if decision else []),
            round(seconds, 1),
        )
        with closing(self._connect()) as db, db:
            db.execute(
                "INSERT INTO outcomes (day, hour, ended_by, disposition, rules, seconds)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                row,
            )

    def counts(self) -> Iterator[tuple[str, str, int]]:
        """(day, disposition or how it ended, sessions), oldest day first."""
        with closing(self._connect()) as db:
            yield from db.execute(
                "SELECT day, COALESCE(disposition, ended_by), COUNT(*) FROM outcomes"
                " GROUP BY 1, 2 ORDER BY 1, 2"
            )
