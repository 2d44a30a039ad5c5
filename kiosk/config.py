"""The kiosk's configuration: one TOML file, overridden by ``KIOSK_*`` environment
variables, validated by pydantic (via pydantic-settings, which does the layering).

Precedence, highest first: command-line flags, ``KIOSK_*`` variables, the TOML file
(``--config``, else ``/etc/kiosk/kiosk.toml`` when it exists), the defaults below.
A wrong value is reported in one line naming the key, the value and what is allowed.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

DEFAULT_FILE = Path("/etc/kiosk/kiosk.toml")


class ConfigError(ValueError):
    """One line for the operator: which key, what value, what is allowed."""


class KioskConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KIOSK_", extra="forbid")

    engine: Literal["auto", "vosk", "pocketsphinx"] = Field(
        "auto", description="speech recognizer; auto picks Vosk when its model is installed"
    )
    model_path: Path | None = Field(None, description="Vosk model folder")
    input_device: str | None = Field(None, description="microphone: index or part of its name")
    output_device: str | None = Field(None, description="speaker: index or part of its name")
    speaking_rate: int = Field(150, ge=80, le=300, description="words per minute")
    volume: float = Field(1.0, ge=0.0, le=1.0, description="speaking volume")
    no_speech_timeout: float = Field(
        8.0, ge=2.0, le=60.0, description="seconds without speech before a question is re-asked"
    )
    max_utterance: float = Field(20.0, ge=5.0, le=120.0, description="longest answer, seconds")
    start_window: float = Field(
        0.3,
        ge=0.1,
        le=1.0,
        description="pocketsphinx: seconds of voicing window to start an answer "
        "(0.3 lets a short 'no' count; see README, Endpointing in a pharmacy)",
    )
    background_voices_db: float | None = Field(
        12.0,
        ge=3.0,
        le=30.0,
        description="pocketsphinx: voices this many dB quieter than the speaker do not "
        "keep an answer going (measured; see README)",
    )
    walk_away_timeout: float = Field(
        40.0, ge=10.0, le=600.0, description="seconds of silence after which the session ends"
    )
    barge_in: bool = Field(
        True,
        description="listen while speaking, through the echo canceller, for red flags "
        "and stop/repeat/slower (README, 'Barge-in'); false: half-duplex, what is said "
        "over the kiosk's voice is not heard",
    )
    language: str = Field("en", pattern=r"^[a-z]{2}(-[a-z]{2})?$", description="prompt catalogue")
    state_dir: Path = Field(Path("/var/lib/kiosk"), description="where the outcome log lives")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The file named by settings_cls.model_config["toml_file"] (see load()).
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))

    @property
    def walk_away_silences(self) -> int:
        """The walk-away timeout as a number of unanswered listen turns (at least 2)."""
        return max(2, round(self.walk_away_timeout / self.no_speech_timeout))


def load(path: Path | None = None, **overrides: Any) -> KioskConfig:
    """The effective configuration. Raises ConfigError with one readable line."""
    file = path if path is not None else (DEFAULT_FILE if DEFAULT_FILE.exists() else None)
    if file is not None and not file.is_file():
        raise ConfigError(f"config file {file} does not exist")

    class FromFile(KioskConfig):
        model_config = SettingsConfigDict(toml_file=file)

    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return FromFile(**given)
    except ValidationError as err:
        raise ConfigError(_one_line(err, file)) from None
    except (OSError, ValueError) as err:  # unreadable or malformed TOML
        raise ConfigError(f"config file {file}: {err}") from None


def _one_line(err: ValidationError, file: Path | None) -> str:
    first = err.errors()[0]
    key = ".".join(str(p) for p in first["loc"])
    where = _source_of(key, file)
    value = first.get("input")
    if first["type"] == "extra_forbidden":
        allowed = ", ".join(KioskConfig.model_fields)
        return f"unknown config key {key!r}{where}; known keys: {allowed}"
    return f"config key {key!r}{where} has bad value {value!r}: {first['msg']}"


def _source_of(key: str, file: Path | None) -> str:
    env = f"KIOSK_{key.upper()}"
    if env in os.environ:
        return f" (from {env})"
    return f" (in {file})" if file else ""


def as_toml(config: KioskConfig) -> str:
    """The effective configuration in the file's own format, for ``kiosk config show``."""
    lines = []
    for name, field in KioskConfig.model_fields.items():
        value = getattr(config, name)
        lines.append(f"# {field.description}")
        if value is None:
            lines.append(f"# {name} = (not set)")
        elif isinstance(value, bool):
            lines.append(f"{name} = {'true' if value else 'false'}")
        elif isinstance(value, int | float):
            lines.append(f"{name} = {value}")
        else:
            text = str(value).replace("\\", "\\\\").replace('"', '\\"')
            lines.append(f'{name} = "{text}"')
    return "\n".join(lines) + "\n"
