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
"""

from __future__ import annotations

import argparse
import hashlib
import json
import multiprocessing
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.audio import read_wav  # noqa: E402
from kiosk.catalogue import load  # noqa: E402
from kiosk.dialog import Dialog  # noqa: E402
from kiosk.events import Finish, Listen, Silence  # noqa: E402
from kiosk.recognizer import SAMPLE_RATE, load_engine  # noqa: E402
from kiosk.understanding import Understander  # noqa: E402
from kiosk.voice import ListenSettings, VoiceKiosk  # noqa: E402
from tests.kiosk_process import pick_answer  # noqa: E402
from tests.sessions import load_vignettes, run_session  # noqa: E402
from tests.synth import Voice, say  # noqa: E402

TODAY = date(2026, 11, 18)
BLOCK = int(SAMPLE_RATE * 0.1) * 2

# Voices: engine, name, rate, pitch, and the rate the recording is resampled to before
# the kiosk hears it (16 kHz flite, 22.05 kHz espeak-ng, one at 44.1 kHz): the kiosk
# resamples whatever it gets.
TUNE_VOICES = [
    (Voice("flite", "slt"), 16000),
    (Voice("flite", "rms", rate=0.9), 44100),
    (Voice("espeak-ng", "en-us", rate=0.95), 22050),
    (Voice("espeak-ng", "en-gb-x-rp", rate=0.9, pitch=35), 22050),
]
HELD_OUT_VOICES = [
    (Voice("flite", "awb", rate=1.05), 16000),  # Scottish
    (Voice("espeak-ng", "en-029", rate=0.9, pitch=60), 22050),  # Caribbean
]
SNRS: list[float | None] = [None, 20.0, 15.0, 10.0]

# Small talk for the babble: other customers, never addressed to the kiosk.
BABBLE_A = [
    "did you find the shampoo you wanted",
    "they moved the vitamins to the back aisle",
    "what time do they close on saturdays",
    "i need to pick up my prescription for my mum",
]
BABBLE_B = [
    "is the car park free after six",
    "my daughter wants the strawberry toothpaste",
    "have you tried the new cough sweets",
    "we are out of milk again at home",
]


# --- audio --------------------------------------------------------------------------------


def _pcm(x: np.ndarray) -> bytes:
    return np.clip(np.round(x), -32768, 32767).astype(np.int16).tobytes()


def _f(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype=np.int16).astype(np.float64)


def pink(n: int, rng: np.random.Generator) -> np.ndarray:
    spectrum = np.fft.rfft(rng.normal(size=n))
    freqs = np.fft.rfftfreq(n)
    freqs[0] = freqs[1]
    x = np.fft.irfft(spectrum / np.sqrt(freqs), n)
    return x / (np.std(x) or 1.0)


def hum(n: int) -> np.ndarray:
    t = np.arange(n) / SAMPLE_RATE
    x = sum(np.sin(2 * np.pi * 50 * k * t) / k for k in (1, 2, 3, 5))
    return x / np.std(x)


def babble(texts: list[str], voices: list[Voice], folder: Path, n: int) -> np.ndarray:
    """Several people talking at once, looped to ``n`` samples."""
    tracks = []
    for i, (text, voice) in enumerate(zip(texts, voices, strict=False)):
        wav = say(text, voice, folder / f"babble-{voice.id}-{i}.wav")
        x = _f(read_wav(wav))
        tracks.append(np.roll(np.resize(x, n), i * SAMPLE_RATE // 3))
    x = np.sum(tracks, axis=0)
    return x / (np.std(x) or 1.0)


class Noise:
    """A pharmacy's sound: babble, mains hum and pink (ventilation) noise, mixed."""

    def __init__(self, recipe: str, folder: Path, seconds: float = 60.0) -> None:
        n = int(SAMPLE_RATE * seconds)
        rng = np.random.default_rng(1 if recipe == "A" else 2)
        if recipe == "A":
            talk = babble(
                BABBLE_A, [Voice("flite", v) for v in ("kal", "slt", "rms", "awb")], folder, n
            )
            self.x = 0.6 * talk + 0.25 * hum(n) + 0.5 * pink(n, rng)
        else:
            talk = babble(
                BABBLE_B,
                [
                    Voice("espeak-ng", v)
                    for v in ("en-gb", "en-us+f2", "en-gb-scotland", "en-us+m4")
                ],
                folder,
                n,
            )
            self.x = 0.7 * talk + 0.15 * hum(n) + 0.6 * pink(n, rng)
        self.x /= np.std(self.x)
        self.pos = 0

    def take(self, n: int, level: float) -> np.ndarray:
        idx = (np.arange(n) + self.pos) % self.x.size
        self.pos = (self.pos + n) % self.x.size
        return self.x[idx] * level


class TurnMicrophone:
    """One listen turn's audio, then the room's noise until the kiosk stops listening."""

    def __init__(self) -> None:
        self.pcm = b""
        self.noise: Noise | None = None
        self.level = 0.0
        self.fed = 0

    def blocks(self, stop_after: float) -> Iterator[bytes]:
        self.fed = 0
        total = int(SAMPLE_RATE * stop_after) * 2
        while self.fed < total:
            block = self.pcm[self.fed : self.fed + BLOCK]
            if len(block) < BLOCK:
                tail = (
                    self.noise.take((BLOCK - len(block)) // 2, self.level)
                    if self.noise
                    else np.random.default_rng(self.fed).normal(0, 30, (BLOCK - len(block)) // 2)
                )
                block += _pcm(tail)
            self.fed += BLOCK
            yield block


# --- sessions ---------------------------------------------------------------------------


@dataclass
class Outcome:
    vignette: str
    expect: str
    typed: str | None
    spoken: str | None
    ending: str
    turns: int
    confirmations: int
    red_flag_delay: float | None
    voice: str
    held_out: bool
    snr: float | None


class Bench:
    def __init__(self, engine_name: str, vosk_model: Path | None, folder: Path) -> None:
        self.c = load()
        self.u = Understander(self.c)
        self.engine = load_engine(engine_name, vosk_model)
        self.mic = TurnMicrophone()
        self.kiosk = VoiceKiosk(
            self.c,
            self.u,
            self.engine,
            self.mic,
            None,
            None,  # type: ignore[arg-type]
            ListenSettings(),
            today=lambda: TODAY,
        )
        self.folder = folder
        self.noises: dict[str, Noise] = {}

    def recording(self, text: str, voice: Voice, rate: int) -> bytes:
        key = hashlib.sha1(f"{voice.id}|{rate}|{text}".encode()).hexdigest()[:16]
        wav = self.folder / f"{key}.wav"
        if not wav.exists():
            raw = self.folder / f"{key}.raw.wav"
            say(text, voice, raw)
            subprocess.run(["sox", str(raw), "-r", str(rate), str(wav)], check=True)
            raw.unlink()
        return read_wav(wav)

    def session(
        self, v: dict[str, Any], voice: Voice, rate: int, held_out: bool, snr: float | None
    ) -> Outcome:
        noise = None
        if snr is not None:
            recipe = "B" if held_out else "A"
            if recipe not in self.noises:
                self.noises[recipe] = Noise(recipe, self.folder)
            noise = self.noises[recipe]
        dialog = Dialog(self.c, self.u, TODAY)
        actions = dialog.start()
        # Asked "did you mention ...?", the person answers truthfully.
        truth = "yes" if v["expect"] == "emergency" else "no"
        answers, default = {"check": truth, **v.get("answers", {})}, v.get("default", "no")
        used: dict[str, int] = {}
        turns, checks, delay, end = 0, 0, None, None
        for _ in range(80):
            end = next((a for a in actions if isinstance(a, Finish)), None)
            if end:
                break
            listen = next(a for a in actions if isinstance(a, Listen))
            turns += 1
            checks += listen.turn == "check"
            text = pick_answer(listen.turn, answers, default, used)
            speech = self.recording(text, voice, rate) if text else b""
            lead = int(SAMPLE_RATE * 0.4)
            x = np.concatenate([np.zeros(lead), _f(speech)])
            level = 0.0
            if noise is not None and speech:
                level = np.sqrt(np.mean(_f(speech) ** 2) / 10 ** (snr / 10))  # type: ignore[operator]
                x = x + noise.take(x.size, level)
            elif not speech:
                x = np.random.default_rng(turns).normal(0, 30, lead)
            self.mic.pcm, self.mic.noise, self.mic.level = _pcm(x), noise, level or 30.0
            event = self.kiosk.listen(listen, dialog)
            actions = dialog.handle(event if text else Silence())
            fin = next((a for a in actions if isinstance(a, Finish)), None)
            if fin and fin.decision and fin.decision.disposition.value == "emergency":
                delay = (self.mic.fed - len(self.mic.pcm)) / 2 / SAMPLE_RATE
        typed = run_session(self.c, self.u, answers, default).end
        return Outcome(
            vignette=v["id"],
            expect=v["expect"],
            typed=typed.decision.disposition.value if typed and typed.decision else None,
            spoken=end.decision.disposition.value if end and end.decision else None,
            ending=end.ending.value if end else "unfinished",
            turns=turns,
            confirmations=checks,
            red_flag_delay=delay,
            voice=voice.id,
            held_out=held_out,
            snr=snr,
        )


def _worker(
    args: tuple[str, str | None, str, list[tuple[dict, Voice, int, bool, float | None]]],
) -> list[dict[str, Any]]:
    engine, model, folder, jobs = args
    bench = Bench(engine, Path(model) if model else None, Path(folder))
    return [asdict(bench.session(*job)) for job in jobs]


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
                    "false_911": _rate(other, lambda r: r["spoken"] == "emergency"),
                    "exact": _rate(group, lambda r: r["spoken"] == r["expect"]),
                    "no_guidance": _rate(group, lambda r: r["ending"] != "guidance"),
                    "median_turns": statistics.median(r["turns"] for r in group),
                    "median_confirmations": statistics.median(r["confirmations"] for r in group),
                    "median_red_flag_delay_s": round(statistics.median(delays), 2)
                    if delays
                    else None,
                }
            )
    return out


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
    p.add_argument(
        "--snr", default="clean,20,15,10", help="conditions, comma-separated (clean or dB)"
    )
    p.add_argument("--others", type=int, default=0, help="non-emergency vignettes (0: all)")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    p.add_argument("--json", type=Path)
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
    voices = [(v, r, False) for v, r in TUNE_VOICES] + [(v, r, True) for v, r in HELD_OUT_VOICES]
    if a.held_out_only:
        voices = [x for x in voices if x[2]]
    snrs = [None if x == "clean" else float(x) for x in a.snr.split(",")]
    if a.quick:
        voices = [voices[0], voices[len(TUNE_VOICES)]]
        snrs = [15.0]
    jobs = [
        (v, voice, rate, held, snr)
        for voice, rate, held in voices
        for snr in snrs
        for v in vignettes
    ]
    chunks = [jobs[i :: a.jobs * 8] for i in range(a.jobs * 8)]
    started = time.time()
    model = str(a.vosk_model) if a.vosk_model else None
    rows: list[dict[str, Any]] = []
    with multiprocessing.get_context("spawn").Pool(a.jobs) as pool:
        work = [(engine, model, str(a.cache), c) for c in chunks if c]
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
    ]
    print(
        f"engine {engine}; {platform.machine()}, {os.cpu_count()} cores; "
        f"{len(rows)} sessions in {time.time() - started:.0f} s"
    )
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for row in table:
        print("| " + " | ".join(str(row[h]) for h in head) + " |")
    if a.json:
        a.json.write_text(json.dumps({"rows": rows, "table": table}, indent=1))


if __name__ == "__main__":
    main()
