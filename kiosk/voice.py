"""The voice loop: the dialog behind a microphone and a loudspeaker.

A shell around the core: it plays what the dialog says, listens when the dialog
listens, and hands back what the recognizer heard. It decides nothing clinical; even
"is this partial sentence already a red flag?" is asked of the dialog.

* Barge-in (with a ``BargeIn``: duplex devices and an echo canceller): while the kiosk
  speaks, the microphone stays open behind the canceller, and what kiosk/barge_in.py
  says cuts a sentence short does (a red flag; stop, repeat, slower). Without one,
  half-duplex: the microphone is open only while listening, and opens only once
  playback has physically finished (plus a short margin), so the kiosk never hears
  itself.
* A red flag is acted on before the sentence ends: once it is stable in the partial
  hypothesis (two partials in a row), listening stops and the emergency guidance
  follows.
* Emergency speech is said twice and never cut off (nothing listens while it plays).
* Timeouts count audio time, not wall-clock time, so a slow machine never hears
  silence that was not there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol

import numpy as np

from kiosk.audio import DuplexUnavailable, Loudspeaker, Microphone
from kiosk.barge_in import Interruption, over_voice
from kiosk.catalogue import Catalogue
from kiosk.dialog import WALK_AWAY_SILENCES, Dialog
from kiosk.events import Action, Event, Finish, Heard, Listen, Priority, Say, Silence, SpeakSlower
from kiosk.grammar import Grammars
from kiosk.nearness import from_the_room, room_level
from kiosk.partials import StablePartial, lost_in_final
from kiosk.recognizer import SAMPLE_RATE, Engine, Hypothesis, Recognition
from kiosk.speech import Clip, Voice
from kiosk.understanding import Understander, Understanding
from kiosk.wake import Wake, let_go, wake

log = logging.getLogger(__name__)


class SpeakingMicrophone(Protocol):
    """A loudspeaker that listens while it plays: each microphone block comes with
    exactly what was played over the same stretch of time (the echo canceller's
    reference), both 16 kHz mono PCM. Closing the generator stops playback at once."""

    def play_listening(
        self, samples: np.ndarray, rate: int
    ) -> Generator[tuple[bytes, bytes], None, None]: ...


class Canceller(Protocol):
    settled: bool
    """Has it learnt the room's echo (so that what it leaves is not the kiosk's words)?"""

    def process(self, mic: bytes, played: bytes) -> bytes: ...


BargeIn = tuple[SpeakingMicrophone, Canceller]

EMERGENCY_REPEATS = 2


@dataclass(frozen=True)
class ListenSettings:
    no_speech_timeout: float = 8.0
    """Seconds of audio without speech before the turn counts as silence."""
    max_utterance: float = 20.0
    """Someone talking without a pause is cut off here and the turn ends."""
    stable_partials: int = 2
    """A red flag must be in this many partial hypotheses in a row to be acted on."""
    second_opinion_every: float = 1.0
    """Audio seconds between second opinions on a red flag still in the partials."""
    carried_answer: float = 1.5
    """An utterance begun over the kiosk's voice that ends this many audio seconds or
    more into the listen turn (trailing silence included: 0.6 s) went on well after the
    kiosk fell silent: it is the person's answer, heard as any answer is, not something
    said over the kiosk's voice. In a pharmacy's babble an utterance is nearly always
    going on when the kiosk stops talking, and the patient's answer ran on inside it and
    was let go with it (bench/spoken_bench.py --kiosk barge-in)."""


@dataclass(frozen=True)
class Overlap:
    """An utterance begun while the kiosk was speaking, and the sentences it was saying
    meanwhile (what the canceller left of them may be in it)."""

    recognition: Recognition
    saying: tuple[str, ...]
    back: Callable[[], None]
    """Back to what the recognizer had adapted to before the kiosk began to speak
    (``Engine.checkpoint``), once nothing heard over its voice goes on into a turn."""


@dataclass(frozen=True)
class Overheard:
    """What the kiosk heard while it spoke a sentence (barge-in)."""

    cut: Heard | None = None
    """What cut it short, for the dialog."""
    ongoing: Overlap | None = None
    """An utterance of the person's still going on when it fell silent (the room's is
    not carried into the turn: it would swallow the answer said into it)."""
    kept: Heard | None = None
    """A red flag for a sign it was naming: checked if the listen turn hears nothing."""


class _RedFlagWatch:
    """A red flag in the partial hypotheses, acted on before the sentence ends once it
    is stable and the second opinion already agrees; otherwise the person goes on
    (asked again at most once a second: each costs a decode) and the whole sentence is
    judged."""

    def __init__(self, kiosk: VoiceKiosk, dialog: Dialog) -> None:
        self.kiosk, self.dialog = kiosk, dialog
        self.stable = StablePartial(kiosk.settings.stable_partials)
        self.next_try = 0.0
        # Partials repeat the same words block after block; the dialog's answer for a
        # text cannot change within the turn, so each text is judged once (it was a
        # quarter of a session's compute).
        self.judged: dict[str, bool] = {}
        self.flagged: Heard | None = None
        """A red flag stable in the partials, not acted on: the other decode did not
        carry it. Checked if the whole utterance loses it (kiosk/partials.py)."""

    def early(self, text: str, audio_seconds: float, recognition: Recognition) -> Heard | None:
        if text not in self.judged:
            self.judged[text] = self.dialog.red_flag_in(text)
        if not self.stable.update(self.judged[text]) or audio_seconds < self.next_try:
            return None
        self.next_try = audio_seconds + self.kiosk.settings.second_opinion_every
        heard = self.kiosk._with_opinion(text, recognition, self.dialog)
        if self.dialog.red_flag_in(heard):
            return heard
        self.flagged = heard
        return None

    def take(self) -> Heard | None:
        """The partials' unacted red flag, for an utterance now over (and a fresh count
        for the next one)."""
        flagged, self.flagged = self.flagged, None
        self.stable = StablePartial(self.stable.needed)
        return flagged

    def final(self, heard: Heard | Silence) -> Heard | Silence:
        """What goes to the dialog at the end of the utterance (kiosk/partials.py)."""
        return lost_in_final(heard, self.take(), self.dialog.red_flag_in)


class VoiceKiosk:
    def __init__(
        self,
        catalogue: Catalogue,
        understander: Understander,
        engine: Engine,
        microphone: Microphone,
        loudspeaker: Loudspeaker,
        voice: Voice,
        settings: ListenSettings | None = None,
        today: Callable[[], date] = date.today,
        walk_away_silences: int = WALK_AWAY_SILENCES,
        heartbeat: Callable[[], None] = lambda: None,
        on_finish: Callable[[Finish, datetime, float], None] | None = None,
        debug_transcripts: bool = False,
        barge_in: BargeIn | None = None,
    ) -> None:
        self.c = catalogue
        self.understander = understander
        self.engine = engine
        engine.learn(catalogue.phones)
        self.grammars = Grammars(catalogue)
        self.mic = microphone
        self.speaker = loudspeaker
        self.voice = voice
        self.settings = settings or ListenSettings()
        self.today = today
        self.walk_away_silences = walk_away_silences
        self.on_finish = on_finish
        self.debug_transcripts = debug_transcripts
        self.heartbeat = heartbeat
        """Called from the loop itself (every audio block, around every playback): a hung
        loop stops calling it, and the service watchdog restarts the kiosk."""
        self.duplex, self.canceller = barge_in or (None, None)
        """Both or neither: with them the kiosk listens while it talks (barge-in)."""
        self.woken_at: float | None = None
        """How loud the utterance that woke the kiosk was (dB, ``Recognition.loudness``):
        the first measure of the person's voice in the session it starts."""
        self.person: list[float] = []
        """How loud the person at the kiosk has been heard this session (the utterance
        that woke it, then every listen turn's): a voice far quieter over the kiosk's is
        the room's (kiosk/nearness.py). In memory, for one session."""
        self.second_opinion_seconds = 0.0
        """Time spent on second opinions so far: it adds to a red flag's response time
        (bench/spoken_bench.py reports it)."""

    def prepare(self) -> None:
        """Render every fixed sentence now, so no question waits on synthesis."""
        fixed = [v for v in self.c.dialog.values() if isinstance(v, str) and "{" not in v]
        fixed += [q.ask for q in self.c.questions] + [q.simple for q in self.c.questions]
        self.voice.prerender(fixed)

    # --- one session ------------------------------------------------------------------

    def session(self, first: Heard | None = None) -> Finish | None:
        """Greet, triage, give guidance. ``first`` is what woke the kiosk: if it
        already carries a red flag, that is dealt with at once, before any greeting."""
        self.engine.new_person()
        self.person = [] if self.woken_at is None else [self.woken_at]
        self.woken_at = None
        dialog = self._dialog()
        actions = list(dialog.start())
        if first is not None and dialog.red_flag_in(first.text):
            actions = [a for a in actions if not isinstance(a, Say | Listen)]
            actions += dialog.handle(first)
        return self.converse(dialog, actions)

    def converse(self, dialog: Dialog, actions: list[Action]) -> Finish | None:
        """Carry out the dialog's actions, and what it answers to each event, to the end."""
        actions = list(actions)
        over = Overheard()  # what was heard over the kiosk's voice
        while actions:
            action = actions.pop(0)
            if isinstance(action, Say):
                upcoming = next((a for a in actions if isinstance(a, Listen)), None)
                over = self.say(action, dialog, upcoming, over)
                if over.cut is not None:
                    # cut short: the rest of what it meant to say, and the listen, go
                    assert upcoming is not None
                    del actions[: actions.index(upcoming) + 1]
                    actions += dialog.handle(over.cut)
                    over = Overheard()
            elif isinstance(action, SpeakSlower):
                self.voice.slower()
            elif isinstance(action, Listen):
                event = self.listen(action, dialog, over.ongoing)
                if isinstance(event, Silence) and over.kept is not None:
                    log.info("nothing said after the question: checking a red flag said over it")
                    event = over.kept
                actions += dialog.handle(event)
                over = Overheard()
            elif isinstance(action, Finish):
                outcome = action.decision.disposition.value if action.decision else "none"
                log.info("session ended: %s, disposition %s", action.ending.value, outcome)
                return action
        return None

    def say(
        self,
        action: Say,
        dialog: Dialog | None = None,
        upcoming: Listen | None = None,
        over: Overheard | None = None,
    ) -> Overheard:
        """Say it; with barge-in, listening for ``upcoming`` meanwhile (see
        ``say_listening``). The emergency guidance is said twice and never listened
        over, so nothing cuts it short; nor is the closing guidance (no turn follows)."""
        clip = self.voice.render(action.text)
        over = over or Overheard()
        if action.priority is Priority.emergency:
            for _ in range(EMERGENCY_REPEATS):
                self._play(clip)
            return Overheard()
        if self.duplex is None or dialog is None or upcoming is None:
            self._play(clip)
            return over
        try:
            return self.say_listening(action.text, clip, upcoming, dialog, over)
        except DuplexUnavailable as err:  # raised before anything is played
            log.warning("barge-in off, the kiosk is half-duplex from now on: %s", err)
            self.duplex = self.canceller = None
            self._play(clip)
            return over
        finally:
            self.heartbeat()

    def _play(self, clip: Clip) -> None:
        self.heartbeat()
        self.speaker.play(clip.samples, clip.rate)
        self.heartbeat()

    def listen(self, listen: Listen, dialog: Dialog, ongoing: Overlap | None = None) -> Event:
        """The person's answer. ``ongoing`` is an utterance begun over the kiosk's last
        words (barge-in), carried on rather than cut in two. If it ends soon after the
        kiosk fell silent, it is judged as anything said over the kiosk's voice: it
        counts only if it cuts the kiosk short (kiosk/barge_in.py: an early answer, or
        what the canceller left of the kiosk's voice, is let go), and the turn then
        listens afresh. If it goes on well into the turn (``carried_answer``), it is the
        person's answer. An utterance far quieter than the person (the room's talk,
        kiosk/nearness.py) does not end the turn: it is set aside, and is what the turn
        heard only if they say nothing else."""
        grammar = self.grammars.for_turn(listen.turn, listen.kind, self.engine.free_recognition)
        recognition = ongoing.recognition if ongoing else self.engine.start(grammar)
        watch = _RedFlagWatch(self, dialog)
        heard_speech = ongoing is not None
        kept: Heard | None = None  # a red flag, over the question that named it
        aside: Heard | None = None  # the room's talk: what was heard, if nothing else is
        audio_seconds = 0.0
        limit = self.settings.no_speech_timeout + self.settings.max_utterance
        for block in self.mic.blocks(stop_after=limit):
            self.heartbeat()
            audio_seconds += len(block) / 2 / SAMPLE_RATE
            hyp = recognition.accept(block)
            answered = audio_seconds >= self.settings.carried_answer
            if hyp is not None and hyp.final and (ongoing is None or answered):
                heard = watch.final(self._heard(self._said(hyp, recognition), recognition, dialog))
                if ongoing is not None or not self._the_rooms(recognition):
                    return heard
                # The room's talk (kiosk/nearness.py): in babble the turn opens on it, and
                # it ended the turn before the person answered, heard as words (a red flag
                # too: "a few fine couldn't wee water" for "did you find the shampoo you
                # wanted") or as none (silence). Set aside, as one over the kiosk's voice
                # is kept: what the turn heard only if the person says nothing else.
                aside = aside or (heard if isinstance(heard, Heard) else None)
                recognition, heard_speech = self.engine.start(grammar), False
                continue
            if hyp is not None and hyp.final:
                heard = self._decoded(self._said(hyp, recognition), recognition)
                cut = self._over_voice(heard, dialog, ongoing)
                if cut is not None and cut[0].cuts:
                    return cut[1]
                kept = cut[1] if cut is not None else self._lost(watch, dialog, ongoing)
                recognition, ongoing = self.engine.start(grammar), None
                heard_speech, audio_seconds = False, 0.0  # the turn starts now
                continue
            if hyp is not None:
                heard_speech = True
                early = watch.early(self._said(hyp, recognition), audio_seconds, recognition)
                if early is not None and (ongoing is None or answered):
                    return early
                cut = self._over_voice(early, dialog, ongoing) if early and ongoing else None
                if cut is not None and cut[0].cuts:
                    return cut[1]
            if not heard_speech and audio_seconds >= self.settings.no_speech_timeout:
                return kept or aside or Silence()
            if audio_seconds >= limit:
                break
        text = self._said(recognition.finish(), recognition)
        if ongoing is not None and audio_seconds < self.settings.carried_answer:
            cut = self._over_voice(self._decoded(text, recognition), dialog, ongoing)
            return cut[1] if cut is not None else self._lost(watch, dialog, ongoing) or Silence()
        heard = watch.final(self._heard(text, recognition, dialog))
        return aside if isinstance(heard, Silence) and aside is not None else heard

    def say_listening(
        self, text: str, clip: Clip, upcoming: Listen, dialog: Dialog, over: Overheard
    ) -> Overheard:
        """Say ``text`` (rendered as ``clip``) with the microphone open behind the echo
        canceller (barge-in): returns what cut the kiosk short (kiosk/barge_in.py
        decides what does; playback stops at once), or else the person's utterance still
        going on when the kiosk fell silent, for the listen turn to carry on. What is heard is
        recognized as an answer to ``upcoming``, the turn the kiosk is asking about."""
        assert self.duplex is not None and self.canceller is not None
        back = over.ongoing.back if over.ongoing else self.engine.checkpoint()
        heard = self._hear_over(text, clip, upcoming, dialog, over, back)
        if heard.ongoing is None:
            # What the recognizer adapted to over the kiosk's voice (what the canceller
            # left) is not what the listen turn meets: the raw microphone. Kept, held-out
            # awb's "no" after a question was heard as "no" half as often (README).
            back()
        return heard

    def _hear_over(
        self,
        text: str,
        clip: Clip,
        upcoming: Listen,
        dialog: Dialog,
        over: Overheard,
        back: Callable[[], None],
    ) -> Overheard:
        grammar = self.grammars.for_turn(upcoming.turn, upcoming.kind, self.engine.free_recognition)
        ongoing, kept = over.ongoing, over.kept
        said = (*(ongoing.saying if ongoing else ()), text)
        now = Overlap(ongoing.recognition if ongoing else self.engine.start(grammar), said, back)
        watch = _RedFlagWatch(self, dialog)
        audio_seconds = 0.0
        latest = ""  # the utterance under way, so far
        playing = self.duplex.play_listening(clip.samples, clip.rate)
        try:
            for mic, played in playing:
                self.heartbeat()
                audio_seconds += len(mic) / 2 / SAMPLE_RATE
                clean = self.canceller.process(mic, played)
                if not self.canceller.settled:
                    continue  # still learning the room: what it leaves would be words
                hyp = now.recognition.accept(clean)
                if hyp is not None and hyp.final:
                    heard = self._decoded(self._said(hyp, now.recognition), now.recognition)
                    cut = self._over_voice(heard, dialog, now)
                    if cut is not None and cut[0].cuts:
                        return Overheard(cut=cut[1])
                    lost = self._lost(watch, dialog, now)
                    kept = cut[1] if cut is not None else lost or kept
                    now, latest = Overlap(self.engine.start(grammar), (text,), back), ""
                elif hyp is not None:
                    said = latest = self._said(hyp, now.recognition)
                    early = watch.early(said, audio_seconds, now.recognition)
                    cut = self._over_voice(early, dialog, now) if early else None
                    if cut is not None and cut[0].cuts:
                        return Overheard(cut=cut[1])
        finally:
            playing.close()  # stops the loudspeaker at once if the kiosk was cut short
        kept = kept or self._lost(watch, dialog, now)
        if not now.recognition.in_speech:
            return Overheard(kept=kept)
        if self._the_rooms(now.recognition):
            # The room's talk, going on as the kiosk falls silent, is not carried: the
            # turn listens afresh, as half-duplex, and a red flag in it so far is kept.
            room = self._over_voice(Heard(latest, spoken=True), dialog, now)
            return Overheard(kept=kept or (room[1] if room is not None else None))
        return Overheard(ongoing=now, kept=kept)

    def _said(self, hyp: Hypothesis, recognition: Recognition) -> str:
        """What the person at the kiosk said: ``hyp`` without the words heard far quieter
        than they speak (kiosk/nearness.py), the room's. In 15 dB babble the recognizer
        joined the room's words to short answers ("no" 81 dB, "feet" 59 dB: "no feet"),
        and they became checks and red flags ("no i fell")."""
        level = room_level(self.person)
        if level is None or not hyp.text:
            return hyp.text
        said = recognition.said_louder_than(level)
        if self.debug_transcripts and said != hyp.text:
            log.warning("DEBUG TRANSCRIPT the room's words left out of %r", hyp.text)
        return said

    def _decoded(self, text: str, recognition: Recognition) -> Heard:
        """An utterance heard over the kiosk's voice, with its second opinion."""
        second = "" if self.engine.free_recognition or not text else self._opinion(recognition)
        if self.debug_transcripts and text:
            log.warning("DEBUG TRANSCRIPT over voice: %r (second opinion %r)", text, second)
        return Heard(text, spoken=True, second=second)

    def _over_voice(
        self, heard: Heard, dialog: Dialog, overlap: Overlap
    ) -> tuple[Interruption, Heard] | None:
        """Whether an utterance heard over the kiosk's voice cuts it short or is kept,
        and what then goes to the dialog (kiosk/barge_in.py)."""
        if not heard.text:
            return None
        room = self._the_rooms(overlap.recognition)
        cut = over_voice(heard, dialog.red_flag_in, self._read_plainly, overlap.saying, room)
        if cut is not None and cut[0].cuts:
            log.info("cut short while speaking: %s", cut[0].value)
        return cut

    def _lost(self, watch: _RedFlagWatch, dialog: Dialog, overlap: Overlap) -> Heard | None:
        """A red flag the partials carried over the kiosk's voice and the whole utterance
        lost (kiosk/partials.py), if it would count over the kiosk's voice at all
        (kiosk/barge_in.py): kept, never cut for, and checked if nothing else is said."""
        flagged = watch.take()
        if flagged is None:
            return None
        room = self._the_rooms(overlap.recognition)
        cut = over_voice(flagged, dialog.red_flag_in, self._read_plainly, overlap.saying, room)
        kept = (Interruption.red_flag, Interruption.named, Interruption.room)
        return cut[1] if cut is not None and cut[0] in kept else None

    def _read_plainly(self, said: str) -> Understanding:
        """Understood with no question in mind."""
        return self.understander(said, expecting=None, today=self.today())

    def _opinion(self, recognition: Recognition) -> str:
        clock = time.monotonic()
        second = recognition.second_opinion(room_level(self.person))
        self.second_opinion_seconds += time.monotonic() - clock
        return second

    def _the_rooms(self, recognition: Recognition) -> bool:
        """Was this utterance far quieter than the person at the kiosk speaks: the room's
        (kiosk/nearness.py)?"""
        return from_the_room(recognition.loudness, self.person)

    def _heard(self, text: str, recognition: Recognition, dialog: Dialog) -> Heard | Silence:
        """What the listen turn heard (and, if anything, how loud the person speaks: the
        room's talk does not count)."""
        if not text:
            return Silence()
        if not self._the_rooms(recognition):
            self.person.append(recognition.loudness)
        return self._with_opinion(text, recognition, dialog)

    def _with_opinion(self, text: str, recognition: Recognition, dialog: Dialog) -> Heard:
        """What was heard, with the second opinion when the dialog needs one (a red
        flag, an answer to an emergency question: the other decode costs time)."""
        second = self._opinion(recognition) if dialog.wants_second(text) else ""
        if self.debug_transcripts:
            log.warning("DEBUG TRANSCRIPT heard: %r (second opinion %r)", text, second)
        return Heard(text, spoken=True, second=second)

    # --- between sessions -----------------------------------------------------------

    def _dialog(self) -> Dialog:
        return Dialog(self.c, self.understander, self.today(), self.walk_away_silences)

    def wait_for_someone(self) -> Heard:
        """Idle until someone speaks *to* the kiosk (kiosk/wake.py decides; small talk
        nearby is let go); returns what they said, with its second opinion, to start the
        session with (it may be a red flag)."""
        probe = self._dialog()
        probe.start()

        def read(text: str) -> Understanding:
            return self.understander(text, expecting=None, today=self.today())

        before: frozenset[str] = frozenset()  # a red flag let go, if said again
        while True:
            text, recognition = self._idle_utterance()
            if not text:
                before = frozenset()  # a stretch of quiet: not said again
                continue
            free = self.engine.free_recognition
            second = "" if free else recognition.second_opinion()
            heard = Heard(text, spoken=True, second=second)
            if self.debug_transcripts:
                log.warning("DEBUG TRANSCRIPT idle: %r (second opinion %r)", text, second)
            said = text if free else second  # the free-vocabulary decode
            what, first = wake(self.c, heard, said, probe.red_flag_in, read, before)
            if what is not Wake.stay_idle:
                self.woken_at = recognition.loudness
                return first
            before = let_go(heard, said, probe.red_flag_in, read, before)

    def _idle_utterance(self) -> tuple[str, Recognition]:
        """The next thing said near the idle kiosk ("" after a stretch of silence)."""
        recognition = self.engine.start(
            None if self.engine.free_recognition else self.grammars.everything()
        )
        for block in self.mic.blocks(stop_after=self.settings.max_utterance):
            self.heartbeat()
            hyp = recognition.accept(block)
            if hyp is not None and hyp.final:
                return hyp.text, recognition
        return recognition.finish().text, recognition

    def run(self, sessions: int | None = None) -> None:
        """Session after session (or ``sessions`` of them); nothing carries over."""
        done = 0
        while sessions is None or done < sessions:
            first = self.wait_for_someone()
            log.info("session started")
            started, clock = datetime.now(), time.monotonic()
            end = self.session(first)
            if end is not None and self.on_finish is not None:
                self.on_finish(end, started, time.monotonic() - clock)
            done += 1  # nothing about this person is kept: the next session starts empty
