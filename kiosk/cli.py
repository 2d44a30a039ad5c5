"""The ``kiosk`` command: a thin shell over the core. It parses, reads and prints;
every clinical decision is made in kiosk.rules and kiosk.dialog."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sqlite3
import sys
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path

from pydantic import ValidationError

from kiosk import catalogue, speech_models
from kiosk import config as config_file
from kiosk import doctor as doctor_checks
from kiosk.audio import (
    AudioFileError,
    DeviceError,
    Duplex,
    Loudspeaker,
    Microphone,
    find_device,
    list_devices,
    read_wav,
)
from kiosk.audio import stuck as audio_stuck
from kiosk.chat import Transcriber, chat_json, chat_text
from kiosk.dialog import Dialog
from kiosk.echo_canceller import EchoCanceller, EchoCancellerUnavailable
from kiosk.events import Finish, Listen
from kiosk.grammar import Grammars, vocabulary
from kiosk.outcomes import OutcomeLog
from kiosk.recognizer import Endpointing, Engine, EngineUnavailable, load_engine, transcribe
from kiosk.rules import decide
from kiosk.service import Service
from kiosk.speech import SpeechError, Voice
from kiosk.symptoms import SymptomReport
from kiosk.understanding import Understander
from kiosk.voice import BargeIn, ListenSettings, VoiceKiosk

OUTCOMES_FILE = "outcomes.sqlite3"


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="kiosk", description="Back pain triage kiosk.")
    p.add_argument(
        "--config",
        type=Path,
        default=None,
        help=f"configuration file (default {config_file.DEFAULT_FILE} if it exists)",
    )
    p.add_argument("--language", default=None, help="prompt catalogue (prompts/<language>)")
    sub = p.add_subparsers(dest="command", required=True)

    chat = sub.add_parser("chat", help="talk to the kiosk by typing")
    chat.add_argument("--json", action="store_true", help="JSON-lines protocol on stdout")
    chat.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="the session's date (YYYY-MM-DD), for 'since Monday'",
    )
    chat.add_argument(
        "--wav", action="store_true", help="with --json: each stdin line is a WAV file to hear"
    )
    _engine_options(chat)

    triage = sub.add_parser("triage", help="decide on a symptom report (JSON)")
    triage.add_argument("file", nargs="?", default="-", help="report file, or - for stdin")

    sub.add_parser("schema", help="print the symptom report's JSON Schema")

    run = sub.add_parser("run", help="the voice kiosk on the sound devices, session after session")
    _engine_options(run)
    run.add_argument("--input", default=None, help="microphone: index or part of its name")
    run.add_argument("--output", default=None, help="loudspeaker: index or part of its name")
    run.add_argument("--rate", type=int, default=None, help="speaking rate, words per minute")
    run.add_argument("--volume", type=float, default=None, help="speaking volume, 0.0 to 1.0")
    run.add_argument("--sessions", type=int, default=None, help="stop after this many sessions")
    run.add_argument(
        "--debug-transcripts",
        action="store_true",
        help="FOR STAFF TESTING ONLY: write what people say to the log",
    )

    sub.add_parser("report", help="anonymous outcome counts per day and disposition")

    doctor = sub.add_parser("doctor", help="self-check: devices, microphone level, speaker, speech")
    doctor.add_argument("--json", action="store_true", help="machine-readable output")

    config = sub.add_parser("config", help="the effective configuration")
    config.add_argument("action", choices=["show"])

    sub.add_parser("devices", help="list the sound devices")

    models = sub.add_parser("models", help="speech models: list, download, verify")
    models.add_argument("action", choices=["list", "download", "verify"])
    return p


def _engine_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--engine",
        choices=["auto", "vosk", "pocketsphinx"],
        default=None,
        help="speech recognizer (auto: Vosk when its English model is installed)",
    )
    p.add_argument("--model", type=Path, default=None, help="a Vosk model folder")


def _engine(cfg: config_file.KioskConfig, grammars: Grammars) -> Engine:
    """Load the recognizer and say on stderr which one was picked, and why."""
    model = cfg.model_path or speech_models.installed(speech_models.ENGLISH)
    try:
        # The configured timeouts reach the engine's own endpointing, not only the loop.
        endpointing = Endpointing(
            max_utterance=cfg.max_utterance,
            no_speech=cfg.no_speech_timeout,
            start_window=cfg.start_window,
            background_drop_db=cfg.background_voices_db,
        )
        engine = load_engine(cfg.engine, model, endpointing)
    except EngineUnavailable as err:
        raise SystemExit(f"kiosk: {err}. {speech_models.HOW_TO_INSTALL}") from None
    why = " (no Vosk model installed)" if cfg.engine == "auto" and engine.name != "vosk" else ""
    print(f"kiosk: speech recognition: {engine.name}{why}", file=sys.stderr)
    engine.learn(grammars.c.phones)
    words: set[str] = vocabulary(grammars.everything())
    for turn, kind in grammars.every_turn():
        words |= vocabulary(grammars.for_turn(turn, kind) or ())
    missing = engine.missing_words(words)
    if missing:
        print(
            f"kiosk: {len(missing)} grammar words unknown to {engine.name}, not heard: "
            + " ".join(sorted(missing)),
            file=sys.stderr,
        )
    return engine


def _wav_transcriber(cfg: config_file.KioskConfig, cat: catalogue.Catalogue) -> Transcriber:
    grammars = Grammars(cat)
    engine = _engine(cfg, grammars)

    def transcribe_file(line: str, listen: Listen) -> str:
        try:
            pcm = read_wav(Path(line))
        except AudioFileError as err:
            print(f"kiosk: {err}", file=sys.stderr)
            return ""
        phrases = grammars.for_turn(listen.turn, listen.kind, engine.free_recognition)
        return transcribe(engine, phrases, pcm).text

    return transcribe_file


def _triage(path: str, cat: catalogue.Catalogue) -> int:
    try:
        raw = sys.stdin.read() if path == "-" else Path(path).read_text("utf-8")
    except OSError as err:
        print(f"kiosk triage: cannot read {path}: {err.strerror}", file=sys.stderr)
        return 2
    try:
        report = SymptomReport.model_validate_json(raw)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(report)"
        print(f"kiosk triage: invalid report at {where}: {first['msg']}", file=sys.stderr)
        return 2
    print(decide(report, cat).model_dump_json(indent=2))
    return 0


def _models(action: str) -> int:
    spec = speech_models.ENGLISH
    root = speech_models.models_dir()
    if action == "list":
        folder = speech_models.installed(spec, root)
        state = f"installed in {folder}" if folder else f"not installed (looked in {root})"
        print(f"{spec.name}: {state}")
        print("pocketsphinx en-us: bundled with the pocketsphinx package")
        return 0
    if action == "verify":
        problems = speech_models.verify(root / spec.name, spec)
        if problems:
            print(f"{spec.name}: " + "; ".join(problems), file=sys.stderr)
            print(speech_models.HOW_TO_INSTALL, file=sys.stderr)
            return 1
        print(f"{spec.name}: intact")
        return 0
    from tqdm import tqdm

    # The bar starts with the first bytes, so a failure to connect is the error alone.
    bars: list[tqdm] = []

    def progress(done: int, total: int | None) -> None:
        if not bars:
            bars.append(tqdm(total=total, unit="B", unit_scale=True, desc=spec.name))
        bars[0].update(done - bars[0].n)

    try:
        try:
            folder = speech_models.download(spec, root, progress=progress)
        finally:
            for bar in bars:
                bar.close()
    except speech_models.ModelError as err:
        print(f"kiosk models download: {err}", file=sys.stderr)
        return 1
    print(f"{spec.name}: installed in {folder}")
    return 0


def _devices() -> int:
    try:
        devices = list_devices()
    except DeviceError as err:
        print(f"kiosk devices: {err}", file=sys.stderr)
        return 1
    if not devices:
        print(
            "kiosk devices: no sound devices found (is a microphone plugged in?)", file=sys.stderr
        )
        return 1
    for d in devices:
        kinds = "/".join(k for k, n in (("in", d["inputs"]), ("out", d["outputs"])) if n)
        print(f"{d['index']:>3}  {d['name']}  ({kinds}, {d['rate']:.0f} Hz)")
    return 0


def _run(args: argparse.Namespace, cfg: config_file.KioskConfig, cat: catalogue.Catalogue) -> int:
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    service = Service()
    engine = _engine(cfg, Grammars(cat))
    try:
        kiosk = VoiceKiosk(
            cat,
            Understander(cat),
            engine,
            Microphone(find_device(cfg.input_device, "input")),
            Loudspeaker(find_device(cfg.output_device, "output")),
            Voice(rate=cfg.speaking_rate, volume=cfg.volume, spoken=cat.spoken),
            ListenSettings(
                no_speech_timeout=cfg.no_speech_timeout, max_utterance=cfg.max_utterance
            ),
            walk_away_silences=cfg.walk_away_silences,
            heartbeat=service.alive,
            on_finish=_outcome_log(cfg),
            debug_transcripts=args.debug_transcripts,
            barge_in=_barge_in(cfg),
        )
        if args.debug_transcripts:
            logging.getLogger("kiosk").warning(
                "DEBUG TRANSCRIPTS ARE ON: what people say goes into the log. "
                "Turn this off before the kiosk meets the public."
            )
        kiosk.prepare()
        print("kiosk: ready", file=sys.stderr, flush=True)
        service.ready()
        try:
            kiosk.run(args.sessions)
        finally:
            service.stopping()
            kiosk.voice.close()
    except (DeviceError, SpeechError) as err:
        print(f"kiosk run: {err}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 0
    return 0


def _barge_in(cfg: config_file.KioskConfig) -> BargeIn | None:
    """The duplex devices and the echo canceller, or None: half-duplex (the README's
    "Barge-in"), by choice or because no canceller can run here."""
    if not cfg.barge_in:
        return None
    try:
        canceller = EchoCanceller()
    except EchoCancellerUnavailable as err:
        logging.getLogger("kiosk").warning("barge-in off, the kiosk is half-duplex: %s", err)
        return None
    duplex = Duplex(
        find_device(cfg.input_device, "input"), find_device(cfg.output_device, "output")
    )
    return duplex, canceller


def _outcome_log(
    cfg: config_file.KioskConfig,
) -> Callable[[Finish, datetime, float], None] | None:
    """The anonymous outcome log's writer, or None (with a warning) if it cannot be kept."""
    try:
        outcomes = OutcomeLog(cfg.state_dir / OUTCOMES_FILE)
    except (OSError, sqlite3.Error) as err:
        logging.getLogger("kiosk").warning("no outcome log in %s: %s", cfg.state_dir, err)
        return None
    return outcomes.record


def _report(cfg: config_file.KioskConfig) -> int:
    path = cfg.state_dir / OUTCOMES_FILE
    if not path.exists():
        print(f"kiosk report: no outcome log at {path} yet", file=sys.stderr)
        return 1
    rows = list(OutcomeLog(path).counts())
    days = sorted({day for day, _, _ in rows})
    kinds = ["emergency", "urgent", "doctor", "self_care", "stopped", "no_response"]
    table = {(day, kind): n for day, kind, n in rows}
    print("day         " + "  ".join(f"{k:>11}" for k in kinds) + "        all")
    for day in days:
        counts = [table.get((day, k), 0) for k in kinds]
        print(f"{day}  " + "  ".join(f"{n:>11}" for n in counts) + f"  {sum(counts):>9}")
    return 0


def main(argv: list[str] | None = None) -> int:
    code = _main(argv)
    if audio_stuck():
        # A sound stream is wedged in its driver, and PortAudio's exit handler would wait
        # on it forever: leave now, so systemd restarts the service at once.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    return code


def _main(argv: list[str] | None) -> int:
    args = _parser().parse_args(argv)
    try:
        cfg = config_file.load(
            args.config,
            language=args.language,
            engine=getattr(args, "engine", None),
            model_path=getattr(args, "model", None),
            input_device=getattr(args, "input", None),
            output_device=getattr(args, "output", None),
            speaking_rate=getattr(args, "rate", None),
            volume=getattr(args, "volume", None),
        )
    except config_file.ConfigError as err:
        if args.command == "doctor":  # the self-check reports it like any other check
            failed = [doctor_checks.Check("config", False, str(err), doctor_checks.FIX_CONFIG)]
            print(doctor_checks.as_text(failed))
            return 1
        print(f"kiosk: {err}", file=sys.stderr)
        return 2
    if args.command == "config":
        print(config_file.as_toml(cfg), end="")
        return 0
    cat = catalogue.load(cfg.language)
    if args.command == "schema":
        print(json.dumps(SymptomReport.model_json_schema(), indent=2))
        return 0
    if args.command == "triage":
        return _triage(args.file, cat)
    if args.command == "models":
        return _models(args.action)
    if args.command == "doctor":
        checks = doctor_checks.run_checks(args.config, cat.say("sound_check"))
        if args.json:
            print(json.dumps(doctor_checks.as_dicts(checks), indent=2))
        else:
            print(doctor_checks.as_text(checks))
        return 0 if all(c.ok for c in checks) else 1
    if args.command == "report":
        return _report(cfg)
    if args.command == "devices":
        return _devices()
    if args.command == "run":
        return _run(args, cfg, cat)
    if args.command == "chat":
        dialog = Dialog(cat, Understander(cat), args.today or date.today())
        if args.wav:
            if not args.json:
                raise SystemExit("kiosk chat: --wav needs --json")
            return chat_json(dialog, sys.stdin, sys.stdout, _wav_transcriber(cfg, cat))
        run = chat_json if args.json else chat_text
        return run(dialog, sys.stdin, sys.stdout)
    raise AssertionError(args.command)


if __name__ == "__main__":
    sys.exit(main())
