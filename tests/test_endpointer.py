"""The endpointer's rules on their own: voice activity as lists of booleans, loudness as
frames of a chosen level. No audio library involved."""

from __future__ import annotations

import numpy as np

from kiosk.endpointer import Endpointer, level_db, loudness

FRAME = 0.03  # seconds, as pocketsphinx's Vad at 16 kHz
N = 480  # samples per frame


def frame(amplitude: float) -> bytes:
    """A frame of a tone at the given peak amplitude (0: digital silence)."""
    t = np.arange(N)
    return (amplitude * np.sin(2 * np.pi * t / 40)).astype(np.int16).tobytes()


def run(
    voiced: list[bool], levels: list[float], **kw: float | None
) -> tuple[int | None, int | None]:
    """Frame index where speech started and where it ended (None: never)."""
    frames = iter(zip(voiced, levels, strict=True))
    current: list[bool] = []

    def is_speech(_: bytes) -> bool:
        return current[-1]

    e = Endpointer(is_speech, FRAME, end_window=0.6, **kw)  # type: ignore[arg-type]
    start = end = None
    for i, (v, a) in enumerate(frames):
        current.append(v)
        e.process(frame(a))
        if e.in_speech and start is None:
            start = i
        if start is not None and not e.in_speech and end is None:
            end = i
    return start, end


def test_a_short_word_starts_an_utterance() -> None:
    """Regression: a 0.6 s start window at 90 % needed over half a second of voicing,
    so a 0.36 s "no" was never speech at all and the turn was heard as silence."""
    voiced = [False] * 20 + [True] * 12 + [False] * 40
    start, end = run(voiced, [3000.0] * len(voiced))
    assert start is not None and end is not None
    assert 20 <= start <= 32 and end <= 32 + 21


def test_a_click_is_not_speech() -> None:
    voiced = [False] * 20 + [True] * 5 + [False] * 40
    assert run(voiced, [3000.0] * len(voiced)) == (None, None)


def test_pauses_between_words_do_not_end_it() -> None:
    voiced = [False] * 10 + ([True] * 15 + [False] * 8) * 3 + [False] * 30
    start, end = run(voiced, [3000.0] * len(voiced))
    assert start is not None and end is not None and end >= 10 + 23 * 3 - 8


def test_quieter_voices_behind_the_speaker_do_not_keep_it_going() -> None:
    """Another customer talking 20 dB below the patient: the detector calls it speech
    all along, but the utterance ends when the patient stops."""
    voiced = [True] * 200
    levels = [300.0] * 20 + [3000.0] * 30 + [300.0] * 150
    start, end = run(voiced, levels)
    assert start is not None and end is not None and 50 <= end <= 50 + 34
    # ...and without the level rule, it never ends: the old behaviour.
    assert run(voiced, levels, drop_db=None)[1] is None


def test_the_speaker_getting_quieter_is_still_the_speaker() -> None:
    """A sentence trailing off by 6 dB is not cut off."""
    voiced = [False] * 10 + [True] * 60 + [False] * 30
    levels = [100.0] * 10 + [3000.0] * 30 + [1500.0] * 30 + [100.0] * 30
    start, end = run(voiced, levels)
    assert start is not None and end is not None and end >= 70


def test_level_of_a_frame() -> None:
    assert level_db(frame(0)) == 0.0
    assert abs(level_db(frame(1000)) - level_db(frame(100)) - 20.0) < 0.5


def test_loudness_is_the_loud_syllables_not_the_pauses() -> None:
    """An utterance two-thirds pauses is as loud as its words; one said 20 dB quieter
    (a voice further off) is 20 dB less loud."""
    near = b"".join([frame(3000), frame(0), frame(0)] * 20)
    far = b"".join([frame(300), frame(0), frame(0)] * 20)
    assert abs(loudness(near) - level_db(frame(3000))) < 0.5
    assert abs(loudness(near) - loudness(far) - 20.0) < 0.5
    assert loudness(b"") == 0.0


def test_a_pause_in_babble_does_not_cut_the_answer_in_two() -> None:
    """Regression (spoken benchmark): "nope. [pause] yeah, I get out of breath" in
    babble was cut at the pause, and the red flag after it never reached the dialog."""
    voiced = [True] * 200
    levels = [300.0] * 20 + [3000.0] * 15 + [300.0] * 20 + [3000.0] * 30 + [300.0] * 115
    start, end = run(voiced, levels)
    assert start is not None and end is not None and end >= 85, (start, end)


def _restarts(voiced: list[bool], levels: list[float]) -> tuple[int, bytes]:
    """How many times the first utterance started again, and what it put out after the
    last of them, to its end (frames carry their level as the tone's amplitude)."""
    e = Endpointer(lambda f: voiced[len(seen) - 1], FRAME, 0.6)
    seen: list[int] = []
    out = b""
    for a in levels:
        seen.append(1)
        restarts, was = e.restarts, e.in_speech
        got = e.process(frame(a))
        if e.restarts != restarts:
            out = b""
        out += got or b""
        if was and not e.in_speech:
            break
    return e.restarts, out


def test_a_nearer_voice_after_the_rooms_babble_starts_the_utterance_again() -> None:
    """Regression (bench/wake_bench.py, 15 dB): babble started an utterance before the
    person spoke to the idle kiosk and kept it going, so their words came out inside
    seconds of decoded babble ("fell butt out my arms have cough") and nobody was
    answered. Someone 15 dB nearer than the babble starts it again, with them."""
    levels = [600.0] * 60 + [3400.0] * 40 + [600.0] * 60
    restarts, out = _restarts([True] * len(levels), levels)
    assert restarts == 1
    heard = [out[i : i + 2 * N] for i in range(0, len(out), 2 * N)]
    loud = [f for f in heard if level_db(f) > level_db(frame(2000))]
    assert len(loud) == 40  # all of the person, and...
    assert len(heard) - len(loud) <= 9 + 34  # ...only a moment of babble each side


def test_the_speaker_getting_louder_is_still_the_same_utterance() -> None:
    """A voice rising 6 dB (emphasis), or a loud syllable now and then, is not someone
    else: nothing is dropped."""
    rising = [1500.0] * 40 + [3000.0] * 40 + [100.0] * 30
    assert _restarts([True] * 80 + [False] * 30, rising)[0] == 0
    syllables = ([1000.0] * 12 + [5000.0] * 3) * 8 + [100.0] * 30
    assert _restarts([True] * 120 + [False] * 30, syllables)[0] == 0


def test_a_loud_onset_is_not_a_nearer_voice() -> None:
    """The rule needs the utterance to have gone on a while (its level known): the
    first syllables of a soft-spoken "no" followed by a loud one are one utterance."""
    levels = [500.0] * 10 + [4000.0] * 30 + [100.0] * 30
    assert _restarts([True] * 40 + [False] * 30, levels)[0] == 0
