"""Small talk at the idle kiosk: how many sessions it starts and how many emergency
announcements it makes in an hour of customers talking near it, never to it. Not a
test: the figures go in the README (tests/test_chatter.py runs a few minutes in CI).

    .venv/bin/python bench/chatter_bench.py                  # an hour, held-out crowd
    .venv/bin/python bench/chatter_bench.py --crowd tune --minutes 20 --why

The kiosk runs session after session (``VoiceKiosk.run``) on a stand-in room whose
recording is the chatter (tests/chatter.py), with the real recognizer, the real speech
output (its length is what the room's clock moves on by while the kiosk talks) and the
real outcome log; time is the room's, not the clock's, so an hour takes minutes. The
counts are read back with ``kiosk report``, as the pharmacy would.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.events import Heard  # noqa: E402
from kiosk.outcomes import OutcomeLog  # noqa: E402
from kiosk.recognizer import load_engine  # noqa: E402
from tests.chatter import HELD_OUT, TUNE, chatter  # noqa: E402
from tests.room import Room, RoomClosed, kiosk_in  # noqa: E402


def run(
    crowd: str, minutes: float, engine: str, vosk_model: Path | None, seed: int, why: bool
) -> dict:
    folder = Path(os.environ.get("KIOSK_BENCH_AUDIO", "/tmp/kiosk-bench-audio"))
    folder.mkdir(parents=True, exist_ok=True)
    room = Room(
        background=chatter(HELD_OUT if crowd == "held-out" else TUNE, minutes * 60, folder, seed),
        limit=minutes * 60,
    )
    state = Path(tempfile.mkdtemp(prefix="kiosk-chatter-"))
    log = OutcomeLog(state / "outcomes.sqlite3")
    woken: list[tuple[float, str, str]] = []
    kiosk = kiosk_in(
        room,
        load_engine(engine, vosk_model),
        on_finish=log.record,
        debug_transcripts=why,  # synthetic chatter: nobody's words
    )
    waiting = kiosk.wait_for_someone

    def wait() -> Heard:  # the benchmark's own record of what woke the kiosk
        heard = waiting()
        woken.append((round(room.now, 1), heard.text, heard.second))
        return heard

    kiosk.wait_for_someone = wait  # type: ignore[method-assign]
    clock = time.monotonic()
    with contextlib.suppress(RoomClosed):  # the hour is over
        kiosk.run()
    wall = time.monotonic() - clock
    kiosk.voice.close()
    env = {**os.environ, "KIOSK_STATE_DIR": str(state)}
    kiosk_cli = str(Path(sys.executable).parent / "kiosk")
    report = subprocess.run([kiosk_cli, "report"], capture_output=True, text=True, env=env)
    counts = {k: n for _day, k, n in log.counts()}
    return {
        "crowd": crowd,
        "minutes": minutes,
        "sessions": sum(counts.values()),
        "emergency": counts.get("emergency", 0),
        "counts": counts,
        "report": report.stdout or report.stderr,
        "woken": woken,
        "wall_seconds": round(wall, 1),
        "engine": engine,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--crowd", choices=["held-out", "tune"], default="held-out")
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--engine", default="pocketsphinx")
    p.add_argument("--vosk-model", type=Path)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--why", action="store_true", help="print what woke the kiosk each time")
    p.add_argument("--json", type=Path)
    a = p.parse_args()
    if a.why:
        logging.basicConfig(level=logging.INFO, format="%(message)s")
    r = run(a.crowd, a.minutes, a.engine, a.vosk_model, a.seed, a.why)
    per_hour = 60 / a.minutes
    print(r["report"])
    print(
        f"{r['crowd']} crowd, {a.minutes:g} min of chatter ({r['engine']}, {r['machine']}): "
        f"{r['sessions']} sessions started ({r['sessions'] * per_hour:.1f}/h), "
        f"{r['emergency']} emergency announcements, {r['wall_seconds']:.0f} s to run"
    )
    if a.why:
        for at, text, second in r["woken"]:
            print(f"  {at:7.1f} s  heard {text!r}  other decode {second!r}")
    if a.json:
        a.json.write_text(json.dumps(r, indent=1))


if __name__ == "__main__":
    main()
