"""Whole spoken sessions in a stand-in pharmacy: a synthesized patient answers every
question of a written vignette, through the real listen loop and recognizer, with the
pharmacy's noise (babble of synthesized small talk, mains hum, pink noise) mixed in at
a chosen signal-to-noise ratio. Used by bench/spoken_bench.py (the full grid) and by
tests/test_spoken_floors.py (the sample CI runs with floors).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

from kiosk.audio import clip16, read_wav
from kiosk.catalogue import Catalogue, QuestionKind, load
from kiosk.dialog import Dialog
from kiosk.endpointer import loudness
from kiosk.events import Finish, Heard, Listen, Silence
from kiosk.recognizer import SAMPLE_RATE, Endpointing, load_engine
from kiosk.symptoms import Answer, Location, Onset, SymptomReport, get_value
from kiosk.understanding import Understander
from kiosk.voice import ListenSettings, VoiceKiosk
from tests.kiosk_process import pick_answer
from tests.room import Echo, Room, RoomClosed, kiosk_in, settle
from tests.sessions import run_session
from tests.synth import Voice, say

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
BABBLE_C = [
    "the bus was late again this morning",
    "do they sell birthday cards here",
    "she said the queue at the post office was huge",
    "remind me to get batteries for the remote",
]


# --- audio --------------------------------------------------------------------------------


def _pcm(x: np.ndarray) -> bytes:
    return clip16(x).tobytes()


def stretch(session: str, seed: int) -> int:
    """Where in the room's noise this session starts (seed 0: where it did before seeds
    existed, so older runs pair up with new ones)."""
    where = session + (f"|{seed}" if seed else "")
    return int(hashlib.sha1(where.encode()).hexdigest()[:8], 16)


def _floor(seed: int, turn: int) -> np.random.Generator:
    """The quiet room's floor at this turn (seed 0: as before seeds existed, so older
    runs pair up with new ones)."""
    return np.random.default_rng([seed, turn] if seed else turn)


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
        x = _f(read_wav(said(text, voice, folder / f"babble-{voice.id}-{i}.wav")))
        tracks.append(np.roll(np.resize(x, n), i * SAMPLE_RATE // 3))
    x = np.sum(tracks, axis=0)
    return x / (np.std(x) or 1.0)


def said(text: str, voice: Voice, wav: Path, rate: int | None = None) -> Path:
    """A recording shared by every benchmark process: made once, and published whole
    (a second process used to read another's half-written babble and crash)."""
    if not wav.exists():
        part = wav.with_name(f"{wav.stem}.{os.getpid()}.part.wav")
        say(text, voice, part)
        if rate:
            # -R: sox's dither is random by default, so the same recording differed from
            # run to run and so did whole sessions (a CI floor that passed, then failed)
            out = str(part) + ".wav"
            subprocess.run(["sox", "-R", str(part), "-r", str(rate), out], check=True)
            os.replace(str(part) + ".wav", part)
        os.replace(part, wav)
    return wav


# Noise recipes: A and C are for tuning, B is held out (never tuned on). C is built
# like B (espeak-ng babble, more talk than hum) from other voices and other small talk,
# so that tuning can see the kind of room B is without seeing B.
RECIPES: dict[str, tuple[list[str], list[Voice], tuple[float, float, float]]] = {
    "A": (BABBLE_A, [Voice("flite", v) for v in ("kal", "slt", "rms", "awb")], (0.6, 0.25, 0.5)),
    "B": (
        BABBLE_B,
        [Voice("espeak-ng", v) for v in ("en-gb", "en-us+f2", "en-gb-scotland", "en-us+m4")],
        (0.7, 0.15, 0.6),
    ),
    "C": (
        BABBLE_C,
        [
            Voice("espeak-ng", v)
            for v in ("en-gb-x-gbclan", "en-us-nyc+f4", "en-gb-x-gbcwmd", "en-us+m3")
        ],
        (0.7, 0.15, 0.6),
    ),
}


class Noise:
    """A pharmacy's sound: babble, mains hum and pink (ventilation) noise, mixed."""

    def __init__(self, recipe: str, folder: Path, seconds: float = 60.0) -> None:
        n = int(SAMPLE_RATE * seconds)
        rng = np.random.default_rng("ABC".index(recipe) + 1)
        texts, voices, (talk, mains, fan) = RECIPES[recipe]
        self.x = talk * babble(texts, voices, folder, n) + mains * hum(n) + fan * pink(n, rng)
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
    """Audio seconds from the end of the red-flag turn's speech to the decision, plus
    the time the second opinion took (what the person would wait)."""
    voice: str
    held_out: bool
    snr: float | None
    noise: str | None
    """The noise recipe (A, C: tune; B: held out), None when clean."""
    seed: int
    """Which stretch of the room's noise (and of the quiet floor) the session heard."""
    trace: list[tuple[str, str, str, str]]
    """Per listen turn: question, what the patient said, what was heard, and the second
    opinion (synthetic speech only: this is the benchmark, not the kiosk)."""
    cut_short: int = 0
    """Times the kiosk was cut short while speaking (``LivePharmacy`` with barge-in)."""


def outcome(
    v: dict[str, Any],
    typed_end: Finish | None,
    end: Finish | None,
    voice: Voice,
    held_out: bool,
    snr: float | None,
    recipe: str | None,
    seed: int,
    **measured: Any,
) -> Outcome:
    """How a spoken session ended, beside how it ended typed."""
    return Outcome(
        vignette=v["id"],
        expect=v["expect"],
        typed=typed_end.decision.disposition.value if typed_end and typed_end.decision else None,
        spoken=end.decision.disposition.value if end and end.decision else None,
        ending=end.ending.value if end else "unfinished",
        voice=voice.id,
        held_out=held_out,
        snr=snr,
        noise=recipe if snr is not None else None,
        seed=seed,
        **measured,
    )


def room_noise(
    noises: dict[str, Noise], folder: Path, session: str, recipe: str, seed: int
) -> Noise:
    """The room's noise for one session, at the session's own stretch of it: whatever
    ran before it in the worker, runs are repeatable and two runs' sessions pair up (an
    A/B compares the same patient in the same noise). It used to run on from the
    previous session, so results moved with the scheduling of the workers."""
    if recipe not in noises:
        noises[recipe] = Noise(recipe, folder)
    noise = noises[recipe]
    noise.pos = stretch(session, seed) % noise.x.size
    return noise


@dataclass
class Patient:
    """What the simulated patient says to each question: the vignette's scripted answer,
    the truth when asked again (``truthful``: a vignette scripts only the questions the
    kiosk should need), and what they put right at the read-back."""

    c: Catalogue
    answers: dict[str, Any]
    default: str
    knows: SymptomReport | None
    used: dict[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, c: Catalogue, u: Understander, v: dict[str, Any]) -> tuple[Patient, Finish | None]:
        """The patient of vignette ``v``, and how their session ends typed."""
        # Asked "did you mention ...?", the person answers truthfully.
        truth = "yes" if v["expect"] == "emergency" else "no"
        # Asked "do you want to stop?" (a misheard "stop"), they did not ask to: "no".
        answers = {"check": truth, "confirm": "no", **v.get("answers", {})}
        default = v.get("default", "no")
        typed_end = run_session(c, u, answers, default).end
        return cls(c, answers, default, typed_end.report if typed_end else None), typed_end

    def says(self, turn: str, heard: SymptomReport) -> str:
        """The answer at ``turn``, the kiosk having heard ``heard`` so far."""
        text = pick_answer(turn, self.answers, self.default, self.used)
        if self.knows:
            text = truthful(self.c, turn, self.answers, self.knows) or text
            text = read_back(self.c, turn, self.answers, text, heard, self.knows)
        return text


class _Site:
    """What both stand-in pharmacies keep: the patients' recordings and the room's
    noises, in ``folder``."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.noises: dict[str, Noise] = {}

    def recording(self, text: str, voice: Voice, rate: int) -> bytes:
        key = hashlib.sha1(f"{voice.id}|{rate}|{text}".encode()).hexdigest()[:16]
        return read_wav(said(text, voice, self.folder / f"{key}.wav", rate))


class Pharmacy(_Site):
    def __init__(
        self,
        engine_name: str,
        vosk_model: Path | None,
        folder: Path,
        likely_weight: int | None = None,
        endpointing: Endpointing | None = None,
    ) -> None:
        self.c = load()
        if likely_weight is not None:  # A/B of the grammar weight (prompts/en/answers.toml)
            grammar = self.c.grammar.model_copy(update={"likely_weight": likely_weight})
            self.c = self.c.model_copy(update={"grammar": grammar})
        self.u = Understander(self.c)
        self.engine = load_engine(engine_name, vosk_model, endpointing)
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
        super().__init__(folder)

    def session(
        self,
        v: dict[str, Any],
        voice: Voice,
        rate: int,
        held_out: bool,
        snr: float | None,
        recipe: str | None = None,
        seed: int = 0,
    ) -> Outcome:
        """One patient's whole session. ``seed`` picks another stretch of the same room
        for the same patient: the recognizer's adaptation carries one changed decode
        into every later turn, so one run flips sessions under any change to the voice
        path, and several seeds tell a change from that noise (bench/spoken_bench.py
        --seeds)."""
        noise = None
        if snr is not None:
            recipe = recipe or ("B" if held_out else "A")
            session = f"{v['id']}|{voice.id}|{snr}"
            noise = room_noise(self.noises, self.folder, session, recipe, seed)
        self.engine.new_person()  # as VoiceKiosk.session does, and its measure of the
        # person's voice starts from what woke the kiosk (the patient's "hello")
        self.kiosk.person = [loudness(self.recording("hello", voice, rate))]
        dialog = Dialog(self.c, self.u, TODAY)
        actions = dialog.start()
        patient, typed_end = Patient.of(self.c, self.u, v)
        turns, checks, delay, end = 0, 0, None, None
        trace: list[tuple[str, str, str, str]] = []
        for _ in range(80):
            end = next((a for a in actions if isinstance(a, Finish)), None)
            if end:
                break
            listen = next(a for a in actions if isinstance(a, Listen))
            turns += 1
            checks += listen.turn == "check"
            text = patient.says(listen.turn, dialog.report)
            speech = self.recording(text, voice, rate) if text else b""
            lead = int(SAMPLE_RATE * 0.4)
            x = np.concatenate([np.zeros(lead), _f(speech)])
            level = 0.0
            if noise is not None and speech:
                level = np.sqrt(np.mean(_f(speech) ** 2) / 10 ** (snr / 10))  # type: ignore[operator]
                x = x + noise.take(x.size, level)
            elif not speech:
                x = _floor(seed, turns).normal(0, 30, lead)
            else:  # "clean" is a quiet room, not digital silence between the words (a
                # real microphone always hears a floor; tests/room.py's quiet level)
                x = x + _floor(seed, turns).normal(0, 30, x.size)
            self.mic.pcm, self.mic.noise, self.mic.level = _pcm(x), noise, level or 30.0
            self.kiosk.second_opinion_seconds = 0.0
            event = self.kiosk.listen(listen, dialog)
            heard = (event.text, event.second) if isinstance(event, Heard) else ("", "")
            trace.append((listen.turn, text, *heard))
            actions = dialog.handle(event if text else Silence())
            fin = next((a for a in actions if isinstance(a, Finish)), None)
            if fin and fin.decision and fin.decision.disposition.value == "emergency":
                delay = (self.mic.fed - len(self.mic.pcm)) / 2 / SAMPLE_RATE
                delay += self.kiosk.second_opinion_seconds
        return outcome(
            v,
            typed_end,
            end,
            voice,
            held_out,
            snr,
            recipe,
            seed,
            turns=turns,
            confirmations=checks,
            red_flag_delay=delay,
            trace=trace,
        )


NUMBER_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
]


PLACES = {
    Location.neck_base: "the base of my neck",
    Location.upper_back: "my upper back",
    Location.between_shoulder_blades: "between my shoulder blades",
    Location.middle_back: "my middle back",
    Location.lower_back: "my lower back",
    Location.shoulders: "my shoulders",
    Location.ribs: "my ribs",
}


def truthful(c: Catalogue, turn: str, answers: dict[str, Any], report: SymptomReport) -> str | None:
    """What the patient says to a question their script leaves out, from their own story
    (the typed session's report), or None for the script's default.

    A vignette scripts only the questions the kiosk should need; when the spoken kiosk
    missed what was said and asks about it, a real person answers it ("Any fainting?"
    after a misheard "I passed out": "yes", not the default "no", which made a missed
    emergency no kiosk could have caught)."""
    if turn in answers:
        return None
    try:
        q = c.question(turn)
    except KeyError:  # open, readback, fix, check, confirm
        return None
    pain = report.pain
    if q.kind is QuestionKind.yes_no:
        signs = q.members or (q.field,)
        if any(s not in answers and get_value(report, s) == Answer.yes for s in signs):
            # "Chest pain, trouble breathing, or pain in your jaw or arm?" to someone whose
            # arm pain the kiosk missed: "yes", whatever they would say of the others
            # (the script's "no" to chest pain was said for the whole group: a lie)
            return "yes"
        return None
    if q.kind is QuestionKind.severity and pain.severity is not None:
        return NUMBER_WORDS[pain.severity]
    if q.kind is QuestionKind.onset and pain.onset is not Onset.unknown:
        return f"it came on {'suddenly' if pain.onset is Onset.sudden else 'gradually'}"
    if q.kind is QuestionKind.location and pain.locations:
        return " and ".join(PLACES[place] for place in pain.locations)
    days = pain.duration_days
    if q.kind is QuestionKind.duration and days is not None and 0 < days < len(NUMBER_WORDS):
        return f"{NUMBER_WORDS[days]} day{'s' if days > 1 else ''}"
    return None


def _days_said(days: int) -> str:
    if days % 7 == 0 and 7 <= days < 7 * len(NUMBER_WORDS):
        weeks = days // 7
        return f"{NUMBER_WORDS[weeks]} week{'s' if weeks > 1 else ''}"
    if days < len(NUMBER_WORDS):
        return f"{NUMBER_WORDS[days]} day{'s' if days != 1 else ''}"
    return f"{days} days"


def put_right(heard: SymptomReport, truth: SymptomReport) -> str | None:
    """The first thing a read-back of ``heard`` says that the patient, whose story is
    ``truth``, would put right (in words the kiosk understands), or None if nothing.
    Only what the read-back says: the pain's place, score, duration and onset, and home
    care and cause; never a sign the kiosk did not mention."""
    h, t = heard.pain, truth.pain
    if h.locations and t.locations and set(h.locations) != set(t.locations):
        return "it's in " + " and ".join(PLACES[place] for place in t.locations)
    if h.severity is not None and t.severity is not None and h.severity != t.severity:
        return f"the pain is a {NUMBER_WORDS[t.severity]}"
    days, true_days = h.duration_days, t.duration_days
    if days is not None and true_days is not None and days != true_days:
        return f"it's been {_days_said(true_days)}"
    if Onset.unknown not in (h.onset, t.onset) and h.onset != t.onset:
        return f"it came on {'suddenly' if t.onset is Onset.sudden else 'slowly'}"
    said = {
        ("home_care_helped", Answer.yes): "rest helped",
        ("home_care_helped", Answer.no): "rest didn't help",
        ("known_cause", Answer.yes): "I hurt it lifting",
        ("known_cause", Answer.no): "I don't know what caused it",
    }
    for (name, value), words in said.items():
        mine = get_value(heard, name)
        if mine is not Answer.unknown and mine != value and get_value(truth, name) is value:
            return words
    return None


def read_back(
    c: Catalogue,
    turn: str,
    answers: dict[str, Any],
    scripted: str,
    heard: SymptomReport,
    truth: SymptomReport,
) -> str:
    """What the patient says to the read-back ("You said ... Is that right?") and to
    "What should I change?": a read-back that is wrong is put right, one thing at a time,
    as a person would; a right one is agreed to. The vignette's script says what a typed
    session needed (a correction of something typed, or nothing: the default, "no", to
    a read-back no one scripted); the spoken kiosk may have heard something else, so the
    patient answers what they hear. A scripted objection with its own "fix" (a red flag
    said again at the read-back) is kept."""
    if turn not in ("readback", "fix"):
        return scripted
    wrong = put_right(heard, truth)
    if wrong is not None:
        return f"no, {wrong}" if turn == "readback" else wrong
    if turn == "fix" or "fix" in answers:
        return scripted
    agrees = scripted.split(",")[0].strip().lower() not in c.answers.no
    return scripted if agrees else "yes"


# --- the kiosk as it runs: speaking, its echo, and (barge-in) listening over its voice ---


ECHO = Echo(delay=0.05, gain_db=-10)
"""The kiosk's voice back at its microphone: as bench/barge_in_bench.py's room."""


@dataclass
class NoisyRoom(Room):
    """The stand-in room (tests/room.py) with the pharmacy's noise under everything, the
    kiosk's own voice included, at one level for the whole session: a room's noise does
    not follow the patient's voice."""

    noise: Noise | None = None
    noise_level: float = 0.0

    def _audio(self, start: int, length: int) -> bytes:
        pcm = super()._audio(start, length)
        if self.noise is None:
            return pcm
        return _pcm(_f(pcm) + self.noise.take(length // 2, self.noise_level))


class LivePharmacy(_Site):
    """Whole sessions as the kiosk lives them: ``VoiceKiosk.converse`` itself, in the
    stand-in room, saying every sentence in its real voice, its echo coming back, the
    pharmacy's noise throughout, and the patient answering shortly after each question.
    With ``barge_in`` it listens over its own voice through the real echo canceller (as
    it is deployed), so what the room's babble does while it speaks counts too; without,
    it is the half-duplex kiosk. (``Pharmacy`` drives only the listen turns.)"""

    def __init__(self, folder: Path, barge_in: bool) -> None:
        super().__init__(folder)
        self.barge_in = barge_in
        self.room = NoisyRoom(echo=ECHO, limit=1e9)
        self.kiosk = kiosk_in(self.room, barge_in=barge_in)
        if barge_in:
            settle(self.kiosk, self.room)
        self.c, self.u = self.kiosk.c, self.kiosk.understander
        self._listen, self._say = self.kiosk.listen, self.kiosk.say

    def session(
        self,
        v: dict[str, Any],
        voice: Voice,
        rate: int,
        held_out: bool,
        snr: float | None,
        recipe: str | None = None,
        seed: int = 0,
    ) -> Outcome:
        room = self.room
        room.noise = None
        if snr is not None:
            recipe = recipe or ("B" if held_out else "A")
            session = f"{v['id']}|{voice.id}|{snr}"
            room.noise = room_noise(self.noises, self.folder, session, recipe, seed)
            # the patient's usual level, from a sentence every vignette's patient says
            usual = _f(self.recording("my upper back hurts", voice, rate))
            room.noise_level = float(np.sqrt(np.mean(usual**2) / 10 ** (snr / 10)))
        patient, typed_end = Patient.of(self.c, self.u, v)
        turns, checks, cuts = 0, 0, 0
        trace: list[tuple[str, str, str, str]] = []

        def answering(action: Listen, dialog: Dialog, *rest: Any) -> Any:
            nonlocal turns, checks
            turns += 1
            checks += action.turn == "check"
            text = patient.says(action.turn, dialog.report)
            if text:
                room.say_at(room.now + room.reply_delay, self.recording(text, voice, rate))
            event = self._listen(action, dialog, *rest)
            heard = (event.text, event.second) if isinstance(event, Heard) else ("", "")
            trace.append((action.turn, text, *heard))
            return event

        def saying(action: Any, *rest: Any) -> Any:
            nonlocal cuts
            over = self._say(action, *rest)
            if over.cut is not None:
                cuts += 1
                trace.append(("(over its voice)", "", over.cut.text, over.cut.second))
            return over

        self.kiosk.listen, self.kiosk.say = answering, saying  # type: ignore[method-assign]
        room.limit = room.now + 1800  # a session that never ends is a finding, not a hang
        # the patient woke the kiosk ("hello"), as loud as they speak
        self.kiosk.woken_at = loudness(self.recording("hello", voice, rate))
        end = None
        try:
            end = self.kiosk.session()
        except RoomClosed:
            pass
        finally:
            self.kiosk.listen, self.kiosk.say = self._listen, self._say  # type: ignore[method-assign]
            room.forget_before(room.now - 5)
            room.position += SAMPLE_RATE * 2  # a moment between one patient and the next
        return outcome(
            v,
            typed_end,
            end,
            voice,
            held_out,
            snr,
            recipe,
            seed,
            turns=turns,
            confirmations=checks,
            red_flag_delay=None,
            trace=trace,
            cut_short=cuts,
        )
