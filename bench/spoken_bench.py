"""The spoken benchmark: whole sessions, per patient, the way they live it. Not a test.

Every written vignette (tests/vignettes/) is run twice side by side: typed, and spoken by
synthesized patient voices through the real recognizer and the real listen loop
(``VoiceKiosk.listen``: per-question grammar, partial red flags, endpointing), with
pharmacy-like noise mixed in at a chosen signal-to-noise ratio. Figures per condition:

* emergency sensitivity (emergency vignettes ending in "Call 911");
* false 911 per non-emergency session;
* exact disposition (as the vignette expects);
* sessions that ended without guidance (stopped or walked away: a misheard word);
* median listen turns, and confirmation turns ("did you mention ...?");
* red flag -> decision: audio seconds from the end of the turn's speech to the moment
  the loop stopped listening (endpointing and partial results included; processing
  and the loudspeaker's start are not: see bench/voice_bench.py for those).

Voices are split: the *tune* voices may be looked at while improving recognition; the
*held-out* voices (and their noise recipe) are never tuned on and are the column that
counts. Run:

    .venv/bin/python bench/spoken_bench.py                 # everything (long)
    .venv/bin/python bench/spoken_bench.py --quick         # 2 voices, 15 dB only
    .venv/bin/python bench/spoken_bench.py --vosk-model models/vosk-model-small-en-us-0.15

Results go to stdout as a Markdown table and to ``--json`` if given.

``--kiosk`` chooses what is driven: ``turns`` (the default, and every figure before
2026-12-05) feeds each listen turn its answer with a moment of noise before it;
``half-duplex`` and ``barge-in`` run the whole kiosk (``VoiceKiosk.converse``) in the
stand-in room, saying every sentence in its real voice with its echo coming back and the
noise going on throughout, the patient answering shortly after each question; with
``barge-in`` the kiosk also listens over its own voice, as it is deployed
(tests/pharmacy.py ``LivePharmacy``; pocketsphinx only). The red flag → decision delay
is not measured there.

One run is one draw: pocketsphinx adapts within a session, so one changed decode carries
into every later turn, and any change to the voice path flips some sessions either way
(about 15 % of the held-out 15 dB sessions). ``--seeds 3`` runs every session on three
stretches of the room's noise (and of the quiet floor) and gives the rates over all of
them, with false 911 per seed beside them, so a change can be told from that noise.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import platform
import statistics
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.recognizer import Endpointing  # noqa: E402
from tests.pharmacy import (  # noqa: E402
    HELD_OUT_VOICES,
    SNRS,
    TUNE_VOICES,
    LivePharmacy,
    Pharmacy,
)
from tests.sessions import load_vignettes  # noqa: E402
from tests.synth import Voice  # noqa: E402


def _worker(
    args: tuple[
        str,
        str | None,
        str,
        int | None,
        str,
        str,
        list[tuple[dict, Voice, int, bool, float | None, str, int]],
    ],
) -> list[dict[str, Any]]:
    engine, model, folder, weight, endpointer, kiosk, jobs = args
    key = (engine, model, folder, weight, endpointer, kiosk)
    if key not in _PHARMACIES:  # one per worker process: grammars are built once, and the
        # recognizer adapts across sessions as a kiosk's does through a day
        _PHARMACIES[key] = (
            Pharmacy(
                engine,
                Path(model) if model else None,
                Path(folder),
                weight,
                ENDPOINTERS[endpointer],
            )
            if kiosk == "turns"
            else LivePharmacy(Path(folder), barge_in=kiosk == "barge-in")
        )
    return [asdict(_PHARMACIES[key].session(*job)) for job in jobs]


_PHARMACIES: dict[tuple[str, str | None, str, int | None, str, str], Pharmacy | LivePharmacy] = {}

ENDPOINTERS = {
    # kiosk/endpointer.py: a short word can start an utterance; quieter voices behind
    # the speaker do not keep it going.
    "default": Endpointing(),
    # the earlier default: 0.6 s start window, every voice counts
    "wide": Endpointing(start_window=0.6, background_drop_db=None),
}


def summarise(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for held_out in (False, True):
        for snr in SNRS:
            group = [r for r in rows if r["held_out"] is held_out and r["snr"] == snr]
            if not group:
                continue
            emerg = [r for r in group if r["expect"] == "emergency"]
            other = [r for r in group if r["expect"] != "emergency"]
            delays = [r["red_flag_delay"] for r in emerg if r["red_flag_delay"] is not None]
            out.append(
                {
                    "voices": "held out" if held_out else "tune",
                    "snr": "clean" if snr is None else f"{snr:g} dB",
                    "sessions": len(group),
                    "sensitivity": _rate(emerg, lambda r: r["spoken"] == "emergency"),
                    "false_911": _rate(other, _called),
                    "exact": _rate(group, lambda r: r["spoken"] == r["expect"]),
                    "no_guidance": _rate(group, lambda r: r["ending"] != "guidance"),
                    "median_turns": statistics.median(r["turns"] for r in group),
                    "median_confirmations": statistics.median(r["confirmations"] for r in group),
                    "median_red_flag_delay_s": round(statistics.median(delays), 2)
                    if delays
                    else None,
                    "non_emergency_cut_short": _rate(other, lambda r: r.get("cut_short", 0) > 0),
                    "false_911_by_seed": ", ".join(
                        _rate([r for r in other if r.get("seed", 0) == s], _called).split()[0]
                        for s in sorted({r.get("seed", 0) for r in group})
                    ),
                }
            )
    return out


def _called(row: dict[str, Any]) -> bool:
    return bool(row["spoken"] == "emergency")


def _rate(rows: list[dict[str, Any]], ok: Any) -> str:
    if not rows:
        return "-"
    hits = sum(1 for r in rows if ok(r))
    return f"{hits}/{len(rows)} ({100 * hits / len(rows):.0f}%)"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--engine", default="pocketsphinx")
    p.add_argument("--vosk-model", type=Path)
    p.add_argument("--quick", action="store_true", help="2 voices (1 held out), 15 dB")
    p.add_argument("--held-out-only", action="store_true", help="only the held-out voices")
    p.add_argument("--tune-only", action="store_true", help="only the tune voices")
    p.add_argument("--voices", help="indices into the (filtered) voice list, e.g. 0,2")
    p.add_argument(
        "--snr", default="clean,20,15,10", help="conditions, comma-separated (clean or dB)"
    )
    p.add_argument("--others", type=int, default=0, help="non-emergency vignettes (0: all)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", type=Path)
    p.add_argument("--likely-weight", type=int, help="override the catalogue's, for an A/B")
    p.add_argument(
        "--endpointer", choices=sorted(ENDPOINTERS), default="default", help="pocketsphinx"
    )
    p.add_argument(
        "--seeds",
        type=int,
        default=1,
        help="run every session on this many stretches of the room (tells a change from "
        "the run-to-run flips of pocketsphinx's adaptation; rates are over all of them)",
    )
    p.add_argument(
        "--kiosk",
        choices=["turns", "half-duplex", "barge-in"],
        default="turns",
        help="turns: the listen turns alone (the figures so far); half-duplex / barge-in: "
        "the whole kiosk speaking in the room, its echo back, pocketsphinx only",
    )
    p.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "kiosk-spoken")
    a = p.parse_args()
    engine = "vosk" if a.vosk_model else a.engine
    a.cache.mkdir(parents=True, exist_ok=True)
    vignettes = load_vignettes()
    if a.others:
        emergencies = [v for v in vignettes if v["expect"] == "emergency"]
        others = [v for v in vignettes if v["expect"] != "emergency"]
        step = max(1, len(others) // a.others)
        vignettes = emergencies + others[::step][: a.others]
    # Tune voices alternate the two tune noises (A: flite babble, C: espeak-ng babble);
    # held-out voices get the held-out noise B.
    voices = [(v, r, False, "AC"[i % 2]) for i, (v, r) in enumerate(TUNE_VOICES)]
    voices += [(v, r, True, "B") for v, r in HELD_OUT_VOICES]
    if a.held_out_only:
        voices = [x for x in voices if x[2]]
    if a.tune_only:
        voices = [x for x in voices if not x[2]]
    if a.voices:
        voices = [voices[int(i)] for i in a.voices.split(",")]
    snrs = [None if x == "clean" else float(x) for x in a.snr.split(",")]
    if a.quick:
        voices = [voices[0], voices[len(TUNE_VOICES)]]
        snrs = [15.0]
    jobs = [
        (v, voice, rate, held, snr, recipe, seed)
        for seed in range(a.seeds)
        for voice, rate, held, recipe in voices
        for snr in snrs
        for v in vignettes
    ]
    chunks = [jobs[i :: a.jobs * 8] for i in range(a.jobs * 8)]
    started = time.time()
    model = str(a.vosk_model) if a.vosk_model else None
    rows: list[dict[str, Any]] = []
    with multiprocessing.get_context("spawn").Pool(a.jobs) as pool:
        work = [
            (engine, model, str(a.cache), a.likely_weight, a.endpointer, a.kiosk, c)
            for c in chunks
            if c
        ]
        for part in tqdm(pool.imap_unordered(_worker, work), total=len(work), unit="batch"):
            rows += part
    table = summarise(rows)
    head = [
        "voices",
        "snr",
        "sessions",
        "sensitivity",
        "false_911",
        "exact",
        "no_guidance",
        "median_turns",
        "median_confirmations",
        "median_red_flag_delay_s",
    ] + (["false_911_by_seed"] if a.seeds > 1 else [])
    head += ["non_emergency_cut_short"] if a.kiosk == "barge-in" else []
    print(
        f"engine {engine}; {platform.machine()}, {os.cpu_count()} cores; "
        f"{len(rows)} sessions ({a.seeds} seed{'s' * (a.seeds > 1)}; kiosk: {a.kiosk}) "
        f"in {time.time() - started:.0f} s"
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in table:
        print("| " + " | ".join(str(row[h]) for h in head) + " |")
    if a.json:
        a.json.write_text(json.dumps({"rows": rows, "table": table}, indent=1))


if __name__ == "__main__":
    main()
