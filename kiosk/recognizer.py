"""Speech recognizers: 16 kHz mono PCM in, hypotheses out. Adapters only — they
translate audio into text and decide nothing clinical.

Two engines behind one small interface:

* **Vosk** (preferred): streaming Kaldi with per-turn grammars. PyPI's vosk 0.3.45 has
  no endpointer setters, so the trailing-silence rules are tuned through the model's
  ``conf/model.conf``: the model is opened through a private overlay folder whose
  ``model.conf`` is the original plus our ``--endpoint.*`` lines (later options win in
  Kaldi), so the installed model is never modified.
* **pocketsphinx** (bundled fallback): its PyPI wheel ships an English acoustic model and
  dictionary. Per-turn grammars become small n-gram models built from the same phrase
  lists; end of speech comes from its voice-activity ``Endpointer``.

A fresh recognition is started for every listen turn, which also keeps Vosk's known
memory growth in check.
"""

from __future__ import annotations

import contextlib
import io
import json
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from kiosk.endpointer import Endpointer, loudness

SAMPLE_RATE = 16_000
BLOCK_SECONDS = 0.2
"""Vosk decodes in 0.2 s steps; feeding 0.2 s blocks keeps latency at that floor."""

BLOCK_BYTES = int(SAMPLE_RATE * BLOCK_SECONDS) * 2


@dataclass(frozen=True)
class Endpointing:
    """When an utterance is over. Values in seconds; see README for the choice."""

    trailing_silence: float = 0.6
    """Silence after speech that ends the utterance (Vosk rule 2)."""
    max_utterance: float = 20.0
    """Someone talking without a pause is cut here (Vosk rule 5)."""
    no_speech: float = 6.0
    """Only silence for this long ends the turn as "nothing heard" (Vosk rule 1)."""
    start_window: float = 0.3
    """pocketsphinx: voicing needed (90 % of this window) before an utterance starts.
    0.3 s lets a short "no" start one (0.6 s did not, in a steady room); endpointer.py."""
    background_drop_db: float | None = 12.0
    """pocketsphinx: once someone is speaking, voices this much quieter than them are
    the room's, not theirs (endpointer.py): with every voice counting, babble kept each
    answer going to the 20 s limit. None: every voice counts."""

    def vosk_options(self) -> list[str]:
        return [
            f"--endpoint.rule1.min-trailing-silence={self.no_speech}",
            f"--endpoint.rule2.min-trailing-silence={self.trailing_silence}",
            f"--endpoint.rule3.min-trailing-silence={self.trailing_silence + 0.3}",
            f"--endpoint.rule4.min-trailing-silence={self.trailing_silence + 0.6}",
            f"--endpoint.rule5.min-utterance-length={self.max_utterance}",
        ]


@dataclass(frozen=True)
class Word:
    text: str
    conf: float
    loudness: float | None = None
    """How loud the word was heard (dB, endpointer.py ``loudness``); None where the
    engine does not place its words in the audio."""


def words_louder_than(words: Iterable[Word], level: float) -> str:
    """The words heard at least ``level`` dB loud (and those of unknown loudness); all of
    them if none is: with nothing said at that level there is nothing to tell apart
    (someone speaking quieter than before is still heard)."""
    words = tuple(words)
    loud = [w.text for w in words if w.loudness is None or w.loudness >= level]
    return " ".join(loud if loud else [w.text for w in words])


FRAME_BYTES = SAMPLE_RATE // 100 * 2
"""Bytes of one 10 ms frame: pocketsphinx places words in 10 ms frames."""


def _placed_words(decoder: object, audio: bytes) -> tuple[Word, ...]:
    """pocketsphinx's current hypothesis (partial or final) as words, each with its
    loudness in ``audio`` (what the decoder was fed in this utterance)."""
    logmath = decoder.logmath  # type: ignore[attr-defined]
    # seg() is None, not empty, when the search found no path (an hour of chatter at
    # the idle kiosk crashed the kiosk here once)
    return tuple(
        Word(
            seg.word.split("(")[0],
            float(logmath.exp(seg.prob)),
            loudness(audio[seg.start_frame * FRAME_BYTES : (seg.end_frame + 1) * FRAME_BYTES]),
        )
        for seg in decoder.seg() or ()  # type: ignore[attr-defined]
        if not seg.word.startswith(("<", "["))
    )


@dataclass(frozen=True)
class Hypothesis:
    text: str
    words: tuple[Word, ...] = ()
    final: bool = False


class Recognition(Protocol):
    """One listen turn."""

    def accept(self, pcm: bytes) -> Hypothesis | None:
        """Feed 16-bit mono PCM. Returns the final hypothesis once the utterance has
        ended, a partial one while it goes on, or None before any speech."""

    def finish(self) -> Hypothesis:
        """End of input: flush and return the final hypothesis (text may be empty)."""

    @property
    def in_speech(self) -> bool:
        """Is someone in the middle of saying something (an utterance begun, not over)?
        A turn cut off here would cut the sentence in two."""

    @property
    def loudness(self) -> float:
        """How loud the speech of this utterance was (endpointer.py ``loudness``): the
        person at the kiosk is louder than the room behind them."""

    def said_louder_than(self, level: float) -> str:
        """The latest hypothesis (partial or final) without the words heard quieter than
        ``level`` dB beside words at least that loud: another voice's, further off
        (kiosk/nearness.py says how quiet). An engine that cannot place a word in the
        audio keeps it; nothing that loud, all are kept."""

    def second_opinion(self, louder_than: float | None = None) -> str:
        """An independent decode of the speech heard so far in this turn, without the
        turn's grammar ("" when the engine has none to give), without its words heard
        quieter than ``louder_than`` dB (as ``said_louder_than``). The dialog compares
        it with the hypothesis before acting on a red flag; the audio stays in memory."""


class Engine(Protocol):
    name: str
    free_recognition: bool
    """Whether recognition without a grammar is good enough for open questions."""

    def start(self, phrases: tuple[str, ...] | None) -> Recognition:
        """Begin a turn, restricted to ``phrases`` (None: free recognition)."""

    def missing_words(self, words: Iterable[str]) -> set[str]:
        """Grammar words the model does not know (they would be silently dropped)."""

    def learn(self, phones: dict[str, str]) -> None:
        """Add words the model lacks, with their pronunciations, where it can."""

    def new_person(self) -> None:
        """Forget what the last person's audio taught the engine: each session starts
        from the same state, whoever came before."""

    def checkpoint(self) -> Callable[[], None]:
        """What the engine has adapted to so far, and a way back to it: the kiosk listens
        over its own voice through the echo canceller, and what that leaves is not what
        the microphone gives in the listen turn after. Going back closes any turn left
        under way."""


class EngineUnavailable(RuntimeError):
    """The engine or its model cannot be loaded; the message says how to fix it."""


def _clean(text: str) -> str:
    return " ".join(w for w in text.split() if w not in ("[unk]", "<unk>"))


# --- Vosk ---------------------------------------------------------------------------------


class VoskEngine:
    name = "vosk"
    free_recognition = True

    def __init__(self, model_dir: Path, endpointing: Endpointing | None = None) -> None:
        try:
            import vosk
        except ImportError as err:  # pragma: no cover - vosk is a dependency
            raise EngineUnavailable(f"the vosk package is not installed ({err})") from err
        if not (model_dir / "conf" / "model.conf").is_file():
            raise EngineUnavailable(f"no Vosk model at {model_dir}")
        vosk.SetLogLevel(-1)
        self._vosk = vosk
        self.endpointing = endpointing or Endpointing()
        self._overlay = tempfile.TemporaryDirectory(prefix="kiosk-vosk-")
        overlay = Path(self._overlay.name)
        _overlay_model(model_dir, overlay, self.endpointing.vosk_options())
        try:
            self.model = vosk.Model(str(overlay))
        except Exception as err:
            raise EngineUnavailable(f"the Vosk model at {model_dir} did not load") from err
        # Only models with a runtime graph (the small ones) accept a grammar.
        self.supports_grammar = (model_dir / "graph" / "HCLr.fst").exists()
        self._known: dict[str, bool] = {}

    def start(self, phrases: tuple[str, ...] | None) -> VoskRecognition:
        if phrases and self.supports_grammar:
            # Phrases with words the model lacks are left out here (and reported once
            # at start-up) rather than mangled by Vosk, which drops such words.
            known = [p for p in phrases if not self._missing(p)]
            grammar = json.dumps([*known, "[unk]"], ensure_ascii=False)
            rec = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE, grammar)
            follower = VoskFollower(self._free_recognizer)
        else:
            rec = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
            follower = None  # already the free decode: there is no other one here
        rec.SetWords(True)
        return VoskRecognition(rec, follower)

    def _free_recognizer(self) -> object:
        rec = self._vosk.KaldiRecognizer(self.model, SAMPLE_RATE)
        rec.SetWords(True)  # placed in the audio, so the room's words can be left out
        return rec

    def _free_decode(self, pcm: bytes) -> str:
        """The free decode of one finished turn's audio (its second opinion)."""
        return VoskFollower(self._free_recognizer).opinion(pcm, over=True)

    def missing_words(self, words: Iterable[str]) -> set[str]:
        return {w for w in words if self.model.vosk_model_find_word(w) == -1}

    def learn(self, phones: dict[str, str]) -> None:
        """A compiled Vosk graph cannot take new words; they stay in missing_words."""

    def new_person(self) -> None:
        """Nothing carries over: every turn is a fresh KaldiRecognizer."""

    def checkpoint(self) -> Callable[[], None]:
        """Nothing to go back to: every turn is a fresh KaldiRecognizer."""
        return lambda: None

    def _missing(self, phrase: str) -> bool:
        if phrase not in self._known:
            self._known[phrase] = bool(self.missing_words(phrase.split()))
        return self._known[phrase]


def _overlay_model(model_dir: Path, overlay: Path, options: list[str]) -> None:
    """Link every part of the model into ``overlay``, with our own conf/model.conf."""
    for part in model_dir.iterdir():
        if part.name != "conf":
            (overlay / part.name).symlink_to(part.resolve())
    conf = overlay / "conf"
    conf.mkdir()
    for part in (model_dir / "conf").iterdir():
        if part.name != "model.conf":
            (conf / part.name).symlink_to(part.resolve())
    original = (model_dir / "conf" / "model.conf").read_text()
    (conf / "model.conf").write_text(original.rstrip("\n") + "\n" + "\n".join(options) + "\n")


@dataclass
class VoskFollower:
    """The second opinion of one grammar turn: a free recognizer kept up with the
    speech, as pocketsphinx's ``FreeFollower``. It was a fresh recognizer over all the
    turn's audio at every ask (a red flag in the partials is asked about every second),
    which grows with the square of the utterance in babble. Fed only when asked, so a
    turn nobody asks about costs no second decode."""

    make: Callable[[], object]
    _rec: object | None = None
    _fed: int = 0
    _said: list[tuple[Word, ...]] = field(default_factory=list)
    """What the free recognizer's own endpoints closed, in order, placed in the audio."""
    _final: tuple[Word, ...] | None = None

    def opinion(self, heard: bytes, over: bool, louder_than: float | None = None) -> str:
        """``heard`` is the turn's whole audio so far (it only grows); words heard
        quieter than ``louder_than`` dB are left out (not the partial result's last
        words: Vosk does not place those)."""
        level = -float("inf") if louder_than is None else louder_than
        if self._final is not None:
            return words_louder_than(self._final, level)
        rec = self._rec = self._rec or self.make()
        if rec.AcceptWaveform(heard[self._fed :]):  # type: ignore[attr-defined]
            self._said.append(_vosk_final(rec.Result(), heard).words)  # type: ignore[attr-defined]
        self._fed = len(heard)
        if over:
            final = _vosk_final(rec.FinalResult(), heard)  # type: ignore[attr-defined]
            self._said.append(final.words)
            self._rec, self._final = None, tuple(w for said in self._said for w in said)
            return words_louder_than(self._final, level)
        partial = _vosk_text(rec.PartialResult(), "partial")  # type: ignore[attr-defined]
        closed = words_louder_than([w for said in self._said for w in said], level)
        return " ".join(t for t in [closed, partial] if t)


def _vosk_text(raw: str, key: str) -> str:
    return _clean(json.loads(raw).get(key, ""))


@dataclass
class VoskRecognition:
    rec: object
    follower: VoskFollower | None = None
    """The second opinion (grammar turns only)."""
    done: bool = False
    _heard: bytearray = field(default_factory=bytearray)
    _partial: bool = False
    _latest: Hypothesis = Hypothesis("")

    def accept(self, pcm: bytes) -> Hypothesis | None:
        self._heard += pcm
        if self.rec.AcceptWaveform(pcm):  # type: ignore[attr-defined]
            self.done, self._partial = True, False
            return self._final(self.rec.Result())  # type: ignore[attr-defined]
        partial = _vosk_text(self.rec.PartialResult(), "partial")  # type: ignore[attr-defined]
        self._partial, self._latest = bool(partial), Hypothesis(partial)
        return Hypothesis(partial) if partial else None

    def _final(self, raw: str) -> Hypothesis:
        self._latest = _vosk_final(raw, bytes(self._heard))
        return self._latest

    def said_louder_than(self, level: float) -> str:
        # a partial result's words are not placed: all kept
        latest = self._latest
        return words_louder_than(latest.words, level) if latest.final else latest.text

    @property
    def in_speech(self) -> bool:
        return self._partial  # Vosk says no more than its partial result

    def finish(self) -> Hypothesis:
        self.done = True
        return self._final(self.rec.FinalResult())  # type: ignore[attr-defined]

    @property
    def loudness(self) -> float:
        return loudness(bytes(self._heard))  # (the whole turn: Vosk marks no speech)

    def second_opinion(self, louder_than: float | None = None) -> str:
        if self.follower is None or not self._heard:
            return ""
        return self.follower.opinion(bytes(self._heard), self.done, louder_than)


def _vosk_final(raw: str, audio: bytes = b"") -> Hypothesis:
    """A Vosk result; its words placed in ``audio`` (the recognizer's whole input) by
    the times Vosk gives them (``SetWords``)."""
    data = json.loads(raw)
    words = tuple(
        Word(
            w["word"],
            float(w.get("conf", 1.0)),
            _loudness_between(audio, w["start"], w["end"]) if audio and "end" in w else None,
        )
        for w in data.get("result", [])
        if w["word"] != "[unk]"
    )
    return Hypothesis(_clean(data.get("text", "")), words, final=True)


def _loudness_between(audio: bytes, start: float, end: float) -> float:
    return loudness(audio[int(start * SAMPLE_RATE) * 2 : int(end * SAMPLE_RATE) * 2])


# --- pocketsphinx -----------------------------------------------------------------------


class PocketsphinxEngine:
    name = "pocketsphinx"
    free_recognition = False

    def __init__(self, endpointing: Endpointing | None = None) -> None:
        try:
            from pocketsphinx import Decoder
        except ImportError as err:  # pragma: no cover - pocketsphinx is a dependency
            raise EngineUnavailable(f"the pocketsphinx package is not installed ({err})") from err
        self.endpointing = endpointing or Endpointing()
        # The wheel's general English model with its whole dictionary (134,000 words):
        # the second opinion, free recognition, and where grammars get pronunciations.
        self.free = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL")
        # Grammars run on a decoder whose dictionary holds only their own words: each
        # search pocketsphinx keeps is sized by its decoder's dictionary (24 MB of heap
        # per question with the whole one, so a day's questions neared MemoryMax).
        with tempfile.NamedTemporaryFile("w", suffix=".dict") as empty:
            self.decoder = Decoder(samprate=SAMPLE_RATE, loglevel="FATAL", lm=None, dict=empty.name)
        self._searches: dict[tuple[str, ...], str] = {}
        self._active: PocketsphinxRecognition | None = None
        self._cmn = {self.decoder: self.decoder.get_cmn(False)}
        self._learned: dict[str, str] = {}

    def new_person(self) -> None:
        """Back to the model's initial state. pocketsphinx adapts utterance by utterance
        (good within a session: one voice, one room); carried over, the last person's
        voice shaped how the next was heard, and whole benchmark sessions changed with
        the order they ran in. Resetting the cepstral mean is enough for the grammar
        decoder; the free decoder (the second opinion) kept more than that (the same
        recording, decoded twice with the mean reset between, came out differently),
        so it is reloaded: about 0.35 s here with the catalogue's words taught again
        (bench/voice_bench.py), memory flat over 30 reloads."""
        self._close_active()
        self.decoder.set_cmn(self._cmn[self.decoder])
        self.free.reinit()
        self._add_words(self._learned)

    def checkpoint(self) -> Callable[[], None]:
        """pocketsphinx's running cepstral mean is what it adapts to the room (both
        decoders). Left adapted to the canceller's output over the kiosk's voice, it
        misheard the "no" said after (tests/test_barge_in.py)."""
        means = {d: d.get_cmn(False) for d in (self.decoder, self.free)}

        def back() -> None:
            self._close_active()
            for decoder, mean in means.items():
                decoder.set_cmn(mean)

        return back

    def start(self, phrases: tuple[str, ...] | None) -> PocketsphinxRecognition:
        self._close_active()
        if phrases:
            self.decoder.activate_search(self._search_for(phrases))
            self._active = PocketsphinxRecognition(
                self.decoder, self.endpointing, FreeFollower(self.free)
            )
        else:
            self._active = PocketsphinxRecognition(self.free, self.endpointing)
        return self._active

    def _close_active(self) -> None:
        """A turn left mid-utterance (a red flag acted on from a partial) must be closed,
        or the decoder refuses to switch searches (and the free decoder to reload)."""
        if self._active is not None:
            self._active.abandon()
            self._active = None

    def _free_decode(self, speech: bytes) -> str:
        """The same speech through the general English language model, as one
        utterance (what the second opinion of a finished turn amounts to)."""
        follower = FreeFollower(self.free)
        return follower.opinion(speech, over=True)

    def missing_words(self, words: Iterable[str]) -> set[str]:
        return {w for w in words if self.free.lookup_word(w) is None}

    def learn(self, phones: dict[str, str]) -> None:
        missing = self.missing_words(phones)
        new = {w: phones[w] for w in phones if w in missing}  # in order: see _search_for
        self._learned.update(new)
        self._add_words(new)

    def _add_words(self, phones: dict[str, str]) -> None:
        """Rebuilding the free decoder's search after each word took 7 s for the
        catalogue's 37 (134,000 words in its tree): it is rebuilt once, after the last."""
        for i, (word, pron) in enumerate(phones.items()):
            self.free.add_word(word, pron, i == len(phones) - 1)

    def _copy_words(self, words: Iterable[str]) -> None:
        """Give the grammar decoder these words' pronunciations, alternates included."""
        for word in words:
            if self.decoder.lookup_word(word) is not None:
                continue
            variant, n = word, 1
            while (phones := self.free.lookup_word(variant)) is not None:
                self.decoder.add_word(variant, phones, False)
                n += 1
                variant = f"{word}({n})"

    def _search_for(self, phrases: tuple[str, ...]) -> str:
        """An n-gram model built from the phrases, made once per phrase list."""
        if phrases not in self._searches:
            from pocketsphinx import NGramModel
            from pocketsphinx.lm import ArpaBoLM

            known = [p for p in phrases if not self.missing_words(p.split())]
            # In the phrases' order, not a set's: the order words enter the dictionary
            # decides ties in the search, and a set's order changes with every process
            # (the same speech was heard differently run to run).
            self._copy_words(dict.fromkeys(w for p in known for w in p.split()))
            with contextlib.redirect_stdout(io.StringIO()):  # ArpaBoLM prints stats
                lm = ArpaBoLM(text="\n".join(known), add_start=True)
                lm.compute()
                arpa = io.StringIO()
                lm.write(arpa)
            with tempfile.NamedTemporaryFile("w", suffix=".arpa") as f:
                f.write(arpa.getvalue())
                f.flush()
                model = NGramModel(self.decoder.config, self.decoder.logmath, f.name)
            name = f"turn{len(self._searches)}"
            self.decoder.add_lm(name, model)
            self._searches[phrases] = name
        return self._searches[phrases]


@dataclass
class FreeFollower:
    """The second opinion of one turn, kept up with the speech. Asked while the person
    is still talking (a red flag in the partials), it was a decode of all the speech so
    far, again at every ask: in babble, where the endpointer hears speech throughout,
    that grew with the square of the utterance (bench/voice_bench.py --babble). Now
    each ask decodes only what came since the last and reads the partial result; once
    the turn is over the utterance is closed and its final result kept."""

    decoder: object
    _fed: int = 0
    _open: bool = False
    _final: tuple[str, tuple[Word, ...]] | None = None
    """Once the turn is over: its text, and its words placed in the audio."""

    def opinion(self, speech: bytes, over: bool, louder_than: float | None = None) -> str:
        """``speech`` is the turn's whole speech so far (it only grows); words heard
        quieter than ``louder_than`` dB are left out."""
        if self._final is None:
            self._decode(speech, over)
        if self._final is not None:
            text, words = self._final
        else:
            hyp = self.decoder.hyp()  # type: ignore[attr-defined]
            text = _clean(hyp.hypstr) if hyp else ""
            if louder_than is None or not text:
                return text
            words = _placed_words(self.decoder, speech)
        return text if louder_than is None else words_louder_than(words, louder_than)

    def _decode(self, speech: bytes, over: bool) -> None:
        d = self.decoder
        if not self._open:
            d.start_utt()  # type: ignore[attr-defined]
            self._open = True
        # In pieces, never as one whole utterance (full_utt): on more than a few
        # seconds that overruns pocketsphinx 5's buffers and crashes the process.
        d.process_raw(speech[self._fed :], False, False)  # type: ignore[attr-defined]
        self._fed = len(speech)
        if over:
            self._open = False
            d.end_utt()  # type: ignore[attr-defined]
            hyp = d.hyp()  # type: ignore[attr-defined]
            self._final = (_clean(hyp.hypstr) if hyp else "", _placed_words(d, speech))

    def close(self) -> None:
        """End the utterance (an abandoned turn's opinion is "" from now on)."""
        if self._final is None:
            self._final = ("", ())
        if self._open:
            self._open = False
            self.decoder.end_utt()  # type: ignore[attr-defined]


@dataclass
class PocketsphinxRecognition:
    decoder: object
    endpointing: Endpointing
    follower: FreeFollower | None = None
    """The second opinion (grammar turns only)."""
    _buffer: bytearray = field(default_factory=bytearray)
    _speech: bytearray = field(default_factory=bytearray)
    """What the decoder was given this turn (memory only), for the second opinion."""
    _started: bool = False
    _seconds: float = 0.0
    _speech_seconds: float = 0.0
    _restarts: int = 0
    _words: tuple[Word, ...] = ()
    """The final hypothesis, placed in the audio."""
    done: bool = False

    def __post_init__(self) -> None:
        from pocketsphinx import Vad

        # pocketsphinx's own Endpointer never frees its C buffers (~39 KB lost per
        # listen turn in 5.1.1); its Vad is freed, so the window is ours (endpointer.py).
        vad = Vad(Vad.LOOSE, SAMPLE_RATE)
        self.endpointer = Endpointer(
            vad.is_speech,
            vad.frame_length,
            end_window=self.endpointing.trailing_silence,
            start_window=self.endpointing.start_window,
            drop_db=self.endpointing.background_drop_db,
        )
        self.frame_bytes: int = vad.frame_bytes

    def accept(self, pcm: bytes) -> Hypothesis | None:
        d = self.decoder
        self._buffer += pcm
        size = self.frame_bytes
        while len(self._buffer) >= size and not self.done:
            frame, self._buffer = bytes(self._buffer[:size]), self._buffer[size:]
            self._seconds += self.endpointer.frame_length
            was_speech = self.endpointer.in_speech
            speech = self.endpointer.process(frame)
            if self.endpointer.restarts != self._restarts:
                self._start_again()
            if speech is not None:
                if not self._started:
                    d.start_utt()  # type: ignore[attr-defined]
                    self._started = True
                d.process_raw(speech, False, False)  # type: ignore[attr-defined]
                self._speech += speech
                self._speech_seconds += self.endpointer.frame_length
            if was_speech and not self.endpointer.in_speech:
                return self._final()
            if self._speech_seconds >= self.endpointing.max_utterance:
                return self._final()
        if self._started:
            hyp = d.hyp()  # type: ignore[attr-defined]
            return Hypothesis(_clean(hyp.hypstr)) if hyp and hyp.hypstr else None
        return None

    def finish(self) -> Hypothesis:
        if self.done:
            return Hypothesis("", final=True)
        if self._started and self.endpointer.in_speech:
            # end_stream wants at most one frame, and fails on an empty one.
            tail = bytes(self._buffer[: self.frame_bytes])
            rest = self.endpointer.end_stream(tail.ljust(self.frame_bytes, b"\0"))
            if rest:
                self.decoder.process_raw(rest, False, False)  # type: ignore[attr-defined]
                self._speech += rest
        return self._final()

    @property
    def in_speech(self) -> bool:
        return not self.done and self.endpointer.in_speech

    @property
    def loudness(self) -> float:
        return loudness(bytes(self._speech))

    def said_louder_than(self, level: float) -> str:
        if self.done:
            words = self._words
        else:
            words = _placed_words(self.decoder, bytes(self._speech)) if self._started else ()
        return words_louder_than(words, level)

    def second_opinion(self, louder_than: float | None = None) -> str:
        if self.follower is None or not self._speech:
            return ""
        return self.follower.opinion(bytes(self._speech), self.done, louder_than)

    def _start_again(self) -> None:
        """A nearer voice began (endpointer.py): what was decoded so far was the room's
        babble, and goes, second opinion included."""
        self._restarts = self.endpointer.restarts
        if self._started:
            self._started = False
            self.decoder.end_utt()  # type: ignore[attr-defined]
        self._speech.clear()
        self._speech_seconds = 0.0
        if self.follower is not None:
            self.follower.close()
            self.follower = FreeFollower(self.follower.decoder)

    def abandon(self) -> None:
        """Close an utterance nobody will read the result of."""
        if self._started and not self.done:
            self.done = True
            self.decoder.end_utt()  # type: ignore[attr-defined]
        if self.follower is not None:
            self.follower.close()

    def _final(self) -> Hypothesis:
        self.done = True
        if not self._started:
            return Hypothesis("", final=True)
        d = self.decoder
        d.end_utt()  # type: ignore[attr-defined]
        hyp = d.hyp()  # type: ignore[attr-defined]
        self._words = _placed_words(d, bytes(self._speech))
        return Hypothesis(_clean(hyp.hypstr) if hyp else "", self._words, final=True)


# --- choosing -----------------------------------------------------------------------------


def load_engine(
    choice: str, vosk_model: Path | None, endpointing: Endpointing | None = None
) -> Engine:
    """``vosk``, ``pocketsphinx`` or ``auto`` (Vosk when its model is installed)."""
    if choice == "pocketsphinx":
        return PocketsphinxEngine(endpointing)
    if choice == "vosk":
        if vosk_model is None:
            raise EngineUnavailable("no Vosk model is installed")
        return VoskEngine(vosk_model, endpointing)
    if choice == "auto":
        if vosk_model is not None and (vosk_model / "conf" / "model.conf").is_file():
            return VoskEngine(vosk_model, endpointing)
        return PocketsphinxEngine(endpointing)
    raise ValueError(f"unknown engine {choice!r}: use auto, vosk or pocketsphinx")


def transcribe(engine: Engine, phrases: tuple[str, ...] | None, pcm: bytes) -> Hypothesis:
    """Recognize a whole recording as one turn, streamed in 0.2 s blocks as a microphone
    would deliver it, followed by a second of silence so the endpointer can close."""
    recognition = engine.start(phrases)
    tail = bytes(SAMPLE_RATE * 2)
    data = pcm + tail
    for i in range(0, len(data), BLOCK_BYTES):
        hyp = recognition.accept(data[i : i + BLOCK_BYTES])
        if hyp is not None and hyp.final:
            return hyp
    return recognition.finish()
