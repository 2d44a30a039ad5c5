"""The kiosk's voice: pyttsx3 (espeak-ng) rendering, real synthesis, no mocks."""

from __future__ import annotations

import numpy as np
import pytest

from kiosk.catalogue import load
from kiosk.speech import Voice

CAT = load()


@pytest.fixture(scope="module")
def voice() -> Voice:
    return Voice(rate=150, spoken=CAT.spoken)


def test_renders_speech_audio(voice: Voice) -> None:
    clip = voice.render("Do you have any chest pain?")
    assert clip.rate > 8000 and 0.8 < clip.seconds < 4.0
    assert np.abs(clip.samples).max() > 1000  # not silence


def test_911_is_said_as_nine_one_one(voice: Voice) -> None:
    said = voice.render("Call 911 now.")
    assert np.array_equal(said.samples, voice.render("Call nine one one now.").samples)


def test_same_sentence_same_audio_even_with_background_rendering(voice: Voice) -> None:
    """Regression: pyttsx3's asynchronous espeak driver let one sentence's audio land in
    another's file when many were rendered in a row in one process."""
    first = {q.id: voice.render(q.ask).samples for q in CAT.questions[:12]}
    other = Voice(rate=150, spoken=CAT.spoken)
    other.prerender([q.simple for q in CAT.questions])
    for q in CAT.questions[:12]:
        assert np.array_equal(other.render(q.ask).samples, first[q.id]), q.id
    other.close()


def test_slower_and_volume() -> None:
    normal = Voice(rate=160)
    slow = Voice(rate=160)
    slow.slower()
    assert slow.rate < normal.rate
    text = "Is the pain getting worse, or changing?"
    assert slow.render(text).seconds > normal.render(text).seconds * 1.1
    quiet = Voice(rate=160, volume=0.5)
    loud_peak = np.abs(normal.render(text).samples).max()
    assert np.abs(quiet.render(text).samples).max() == pytest.approx(loud_peak / 2, rel=0.02)


def test_close_drops_pending_prerendering_cleanly(caplog: pytest.LogCaptureFixture) -> None:
    """Regression: close() cancelled only this voice's own futures; the worker went on
    rendering every queued sentence, and each finished one raised InvalidStateError in
    a callback (logged with a traceback at every kiosk exit)."""
    voice = Voice(rate=150, spoken=CAT.spoken)
    texts = [f"{q.ask} {q.simple}" for q in CAT.questions]
    voice.prerender(texts)
    voice.close()
    # Background work queued after close runs behind whatever close left in the queue.
    after = Voice(rate=151, spoken=CAT.spoken)
    after.prerender(["One more sentence."])
    after._pending[0][0].result(timeout=120)
    assert not any("exception calling callback" in r.getMessage() for r in caplog.records)
    assert len(voice._cache) <= 1  # at most the one that was mid-synthesis


def test_only_fixed_sentences_stay_cached() -> None:
    """Regression: every person's read-back stayed cached for the life of the process."""
    voice = Voice(rate=150, spoken=CAT.spoken)
    voice.prerender(["Is that right?"])
    voice.render("Is that right?")
    for n in range(3):
        voice.render(f"You said the pain is in your upper back, {n} out of 10.")
    assert [text for text, _ in voice._cache] == ["Is that right?"]


def test_samples_that_come_with_the_end_of_the_sentence_are_kept(tmp_path) -> None:
    """Under load the full suite once rendered "Call 911 now." 0.6 s shorter than "Call
    nine one one now.": pyttsx3's espeak driver writes the file on the end-of-message
    event and only then adds that callback's samples. The real driver callback is
    called here as espeak would call it, last samples and end event together; its
    object stands in for a driver mid-sentence (espeak's own timing cannot be forced)."""
    import ctypes
    import wave
    from types import SimpleNamespace

    from pyttsx3.drivers import _espeak
    from pyttsx3.drivers.espeak import EspeakDriver

    from kiosk.tts_process import keep_the_last_samples

    keep_the_last_samples()
    path = tmp_path / "say.wav"
    driver = SimpleNamespace(
        _speaking=True,
        _data_buffer=b"\x01\x00" * 100,  # what earlier callbacks delivered
        _save_file=str(path),
        _text_to_say="now",
        _proxy=SimpleNamespace(notify=lambda *a, **k: None, setBusy=lambda busy: None),
        endLoop=lambda: None,
    )
    events = (_espeak.EVENT * 2)()
    events[0].type, events[1].type = _espeak.EVENT_MSG_TERMINATED, _espeak.EVENT_LIST_TERMINATED
    last = (ctypes.c_short * 50)(*([7] * 50))
    EspeakDriver._onSynth(driver, ctypes.cast(last, ctypes.c_void_p).value, 50, events)
    with wave.open(str(path), "rb") as w:
        assert w.getnframes() == 150
