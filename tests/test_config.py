"""Configuration: one TOML file, KIOSK_* variables over it, flags over both; a wrong
value is one clear line naming the key, the value and what is allowed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from kiosk.config import ConfigError, KioskConfig, as_toml, load
from tests.kiosk_process import kiosk_command

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text)
    return path


def test_file_then_environment_then_flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, 'engine = "pocketsphinx"\nvolume = 0.5\nspeaking_rate = 120\n')
    monkeypatch.setenv("KIOSK_VOLUME", "0.7")
    cfg = load(path, speaking_rate=140)
    assert (cfg.engine, cfg.volume, cfg.speaking_rate) == ("pocketsphinx", 0.7, 140)
    assert cfg.no_speech_timeout == KioskConfig.model_fields["no_speech_timeout"].default


@pytest.mark.parametrize(
    ("text", "expect"),
    [
        ("speaking_rate = 500\n", "'speaking_rate' (in {f}) has bad value 500"),
        ('engine = "whisper"\n', "'engine' (in {f}) has bad value 'whisper'"),
        ("volume = 2\n", "'volume' (in {f}) has bad value 2"),
        ('lanugage = "en"\n', "unknown config key 'lanugage' (in {f}); known keys: engine"),
        ("engine = \n", "config file {f}:"),
    ],
)
def test_bad_file_values_are_one_clear_line(tmp_path: Path, text: str, expect: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load(path)
    assert expect.format(f=path) in str(caught.value)
    assert "\n" not in str(caught.value)


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KIOSK_NO_SPEECH_TIMEOUT", "forever")
    with pytest.raises(
        ConfigError, match=r"\(from KIOSK_NO_SPEECH_TIMEOUT\) has bad value 'forever'"
    ):
        load()


def test_missing_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load(tmp_path / "nope.toml")


def test_walk_away_timeout_in_unanswered_turns() -> None:
    assert KioskConfig(walk_away_timeout=40, no_speech_timeout=8).walk_away_silences == 5
    assert KioskConfig(walk_away_timeout=10, no_speech_timeout=8).walk_away_silences == 2


def test_show_round_trips(tmp_path: Path) -> None:
    cfg = load(write(tmp_path, 'engine = "vosk"\nvolume = 0.25\n'))
    again = load(write(tmp_path, as_toml(cfg)))
    assert again.model_dump() == cfg.model_dump()


def test_cli_config_show_and_errors(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    path = write(tmp_path, "speaking_rate = 130\n")
    shown = subprocess.run(
        kiosk_command("--config", str(path), "config", "show"),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=True,
    )
    assert "speaking_rate = 130" in shown.stdout
    bad = subprocess.run(
        kiosk_command("chat", "--json"),
        input="",
        capture_output=True,
        text=True,
        env={**env, "KIOSK_VOLUME": "loud"},
        cwd=ROOT,
    )
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "kiosk: config key 'volume' (from KIOSK_VOLUME) has bad value 'loud': "
        "Input should be a valid number, unable to parse string as a number"
    ]


def test_configured_timeouts_reach_the_engines_endpointing(tmp_path: Path) -> None:
    """Regression: both engines used their default endpointing whatever the config said."""
    from kiosk.catalogue import load as load_catalogue
    from kiosk.cli import _engine
    from kiosk.grammar import Grammars

    cfg = KioskConfig(engine="pocketsphinx", max_utterance=7.0, no_speech_timeout=4.0)
    engine = _engine(cfg, Grammars(load_catalogue()))
    assert engine.endpointing.max_utterance == 7.0  # type: ignore[attr-defined]
    assert engine.endpointing.no_speech == 4.0  # type: ignore[attr-defined]


def test_the_endpointing_config_reaches_the_engine() -> None:
    """The pharmacy endpointing (the default) is tuned, or switched off, from the config."""
    from kiosk.catalogue import load as load_catalogue
    from kiosk.cli import _engine
    from kiosk.grammar import Grammars

    assert KioskConfig().start_window == 0.3 and KioskConfig().background_voices_db == 12.0
    cfg = KioskConfig(engine="pocketsphinx", start_window=0.5, background_voices_db=9.0)
    engine = _engine(cfg, Grammars(load_catalogue()))
    assert engine.endpointing.start_window == 0.5  # type: ignore[attr-defined]
    assert engine.endpointing.background_drop_db == 9.0  # type: ignore[attr-defined]
    recognition = engine.start(("no",))
    assert recognition.endpointer._drop_db == 9.0  # type: ignore[attr-defined]


def test_a_shorter_max_utterance_cuts_a_long_answer_sooner(tmp_path: Path) -> None:
    """The real recognizer on real speech: 7 s of talking, cut at 5 s."""
    from kiosk.audio import read_wav
    from kiosk.recognizer import BLOCK_BYTES, Endpointing, PocketsphinxEngine
    from tests.synth import Voice, say

    text = "and then I walked all the way from the station to the shops and back again " * 2
    speech = read_wav(say(text, Voice("flite", "slt"), tmp_path / "long.wav"))
    engine = PocketsphinxEngine(Endpointing(max_utterance=5.0))
    rec = engine.start(("no", "yes", "i walked to the shops"))
    fed = 0
    for start in range(0, len(speech), BLOCK_BYTES):
        fed += BLOCK_BYTES
        hyp = rec.accept(speech[start : start + BLOCK_BYTES])
        if hyp is not None and hyp.final:
            break
    assert len(speech) / 32000 > 7
    assert fed / 32000 < 6.5
