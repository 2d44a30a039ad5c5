"""The voice loop: the dialog behind a microphone and a loudspeaker.

A shell around the core: it plays what the dialog says, listens when the dialog
listens, and hands back what the recognizer heard. It decides nothing clinical; even
"is this partial sentence already a red flag?" is asked of the dialog.

* Half-duplex: the microphone is open only while listening, and opens only once
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
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from kiosk.audio import Loudspeaker, Microphone
from kiosk.catalogue import Catalogue
from kiosk.dialog import WALK_AWAY_SILENCES, Dialog
from kiosk.events import Event, Finish, Heard, Listen, Priority, Say, Silence, SpeakSlower
from kiosk.grammar import Grammars
from kiosk.recognizer import SAMPLE_RATE, Engine, Recognition
from kiosk.speech import Voice
from kiosk.understanding import Understander, Understanding
from kiosk.wake import Wake, wake

log = logging.getLogger(__name__)

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


@dataclass
class StablePartial:
    """Counts consecutive partial hypotheses that carry a red flag."""

    needed: int
    streak: int = 0

    def update(self, flagged: bool) -> bool:
        self.streak = self.streak + 1 if flagged else 0
        return self.streak >= self.needed


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
        dialog = self._dialog()
        actions = list(dialog.start())
        if first is not None and dialog.red_flag_in(first.text):
            actions = [a for a in actions if not isinstance(a, Say | Listen)]
            actions += dialog.handle(first)
        while actions:
            action = actions.pop(0)
            if isinstance(action, Say):
                self.say(action)
            elif isinstance(action, SpeakSlower):
                self.voice.slower()
            elif isinstance(action, Listen):
                actions += dialog.handle(self.listen(action, dialog))
            elif isinstance(action, Finish):
                outcome = action.decision.disposition.value if action.decision else "none"
                log.info("session ended: %s, disposition %s", action.ending.value, outcome)
                return action
        return None

    def say(self, action: Say) -> None:
        clip = self.voice.render(action.text)
        times = EMERGENCY_REPEATS if action.priority is Priority.emergency else 1
        for _ in range(times):
            self.heartbeat()
            self.speaker.play(clip.samples, clip.rate)
        self.heartbeat()

    def listen(self, listen: Listen, dialog: Dialog) -> Event:
        free = self.engine.free_recognition
        recognition = self.engine.start(self.grammars.for_turn(listen.turn, listen.kind, free))
        stable = StablePartial(self.settings.stable_partials)
        heard_speech = False
        audio_seconds = 0.0
        limit = self.settings.no_speech_timeout + self.settings.max_utterance
        next_try = 0.0
        # Partials repeat the same words block after block; the dialog's answer for a
        # text cannot change within the turn, so each text is judged once (it was a
        # quarter of a session's compute).
        judged: dict[str, bool] = {}
        for block in self.mic.blocks(stop_after=limit):
            self.heartbeat()
            audio_seconds += len(block) / 2 / SAMPLE_RATE
            hyp = recognition.accept(block)
            if hyp is not None and hyp.final:
                return self._heard(hyp.text, recognition, dialog)
            if hyp is not None:
                heard_speech = True
                if hyp.text not in judged:
                    judged[hyp.text] = dialog.red_flag_in(hyp.text)
                flagged = stable.update(judged[hyp.text])
                if flagged and audio_seconds >= next_try:
                    # Mid-sentence, act only if the second opinion already agrees;
                    # otherwise let the person go on (asking again at most once a
                    # second: each costs a decode) and judge the whole sentence.
                    next_try = audio_seconds + self.settings.second_opinion_every
                    early = self._with_opinion(hyp.text, recognition, dialog)
                    if dialog.red_flag_in(early):
                        return early
            if not heard_speech and audio_seconds >= self.settings.no_speech_timeout:
                return Silence()
            if audio_seconds >= limit:
                break
        return self._heard(recognition.finish().text, recognition, dialog)

    def _heard(self, text: str, recognition: Recognition, dialog: Dialog) -> Heard | Silence:
        return self._with_opinion(text, recognition, dialog) if text else Silence()

    def _with_opinion(self, text: str, recognition: Recognition, dialog: Dialog) -> Heard:
        """What was heard, with the second opinion when the dialog needs one (a red
        flag, an answer to an emergency question: the other decode costs time)."""
        second = ""
        if dialog.wants_second(text):
            clock = time.monotonic()
            second = recognition.second_opinion()
            self.second_opinion_seconds += time.monotonic() - clock
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

        while True:
            text, recognition = self._idle_utterance()
            if not text:
                continue
            free = self.engine.free_recognition
            second = "" if free else recognition.second_opinion()
            heard = Heard(text, spoken=True, second=second)
            if self.debug_transcripts:
                log.warning("DEBUG TRANSCRIPT idle: %r (second opinion %r)", text, second)
            said = text if free else second  # the free-vocabulary decode
            what, first = wake(self.c, heard, said, probe.red_flag_in, read)
            if what is not Wake.stay_idle:
                return first

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
