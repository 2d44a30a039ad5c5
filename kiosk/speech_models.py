"""Speech models on disk: where they live, downloading with a checked SHA-256, and
verifying what is installed. Models are downloaded, never committed.

A download streams to a ``.part`` file while hashing, refuses a hash that differs from
the pinned one, unpacks into a temporary folder beside the target and renames it into
place, so a half-finished download never looks installed. A manifest of per-file
SHA-256 sums written at install time lets ``verify`` find later corruption.
"""

from __future__ import annotations

import hashlib
import http.client
import json
import os
import shutil
import tempfile
import urllib.request
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

MANIFEST = ".kiosk-manifest.json"
CHUNK = 1 << 16


@dataclass(frozen=True)
class ModelSpec:
    name: str
    url: str
    sha256: str
    required: tuple[str, ...]
    """Files a working model must have."""
    url_env: str | None = None
    """An environment variable that, when set, replaces ``url`` (a local mirror); the
    download is still checked against ``sha256``."""


ENGLISH = ModelSpec(
    name="vosk-model-small-en-us-0.15",
    url="https://alphacephei.com/vosk/models/vosk-model-small-en-us-0.15.zip",
    # Pinned from a public install script (see ../shared/research/voice-anchors.md); no
    # official checksum is published. A mismatch is refused with a clear message.
    sha256="30f26242c4eb449f948e42cb302dd7a686cb29a3423a8367f99ff41780942498",
    required=(
        "am/final.mdl",
        "conf/model.conf",
        "conf/mfcc.conf",
        "graph/phones/word_boundary.int",
    ),
    url_env="KIOSK_VOSK_MODEL_URL",
)

KNOWN = {ENGLISH.name: ENGLISH}

HOW_TO_INSTALL = (
    "Install the English speech model with 'kiosk models download' (needs internet, "
    "about 40 MB), or run with '--engine pocketsphinx' to use the bundled recognizer."
)


class ModelError(RuntimeError):
    """A model problem, said in one paragraph with the command that fixes it."""


def models_dir() -> Path:
    """``$KIOSK_MODELS_DIR``, else ``models/`` in the source tree."""
    env = os.environ.get("KIOSK_MODELS_DIR")
    return Path(env) if env else Path(__file__).resolve().parent.parent / "models"


def installed(spec: ModelSpec, root: Path | None = None) -> Path | None:
    """The model's folder if it looks complete, else None."""
    folder = (root or models_dir()) / spec.name
    return folder if all((folder / f).is_file() for f in spec.required) else None


def download(
    spec: ModelSpec,
    root: Path | None = None,
    *,
    url: str | None = None,
    progress: Callable[[int, int | None], None] | None = None,
) -> Path:
    """Fetch, check and unpack a model; returns its folder. Raises ModelError.

    The source is ``url``, else ``$<spec.url_env>`` when set, else ``spec.url``."""
    root = root or models_dir()
    url = url or (spec.url_env and os.environ.get(spec.url_env)) or spec.url
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise ModelError(
            f"Cannot create the models folder {root}: {err.strerror or err}. Set "
            "KIOSK_MODELS_DIR to a writable folder and run 'kiosk models download' again."
        ) from err
    target = root / spec.name
    part = root / f"{spec.name}.zip.part"
    digest = hashlib.sha256()
    try:
        with (
            urllib.request.urlopen(url, timeout=60) as response,
            part.open("wb") as out,
        ):
            total = int(response.headers.get("Content-Length") or 0) or None
            done = 0
            while chunk := response.read(CHUNK):
                out.write(chunk)
                digest.update(chunk)
                done += len(chunk)
                if progress:
                    progress(done, total)
    # HTTPException: e.g. IncompleteRead when a chunked response is cut off; ValueError:
    # a malformed URL (from url= or the environment).
    except (OSError, http.client.HTTPException, ValueError) as err:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"Could not download {spec.name} from {url}: {err or type(err).__name__}. Check the "
            "internet connection and run 'kiosk models download' again."
        ) from err
    if digest.hexdigest() != spec.sha256:
        part.unlink(missing_ok=True)
        raise ModelError(
            f"The download of {spec.name} is not the expected file (SHA-256 "
            f"{digest.hexdigest()}, expected {spec.sha256}). Nothing was installed. Run "
            "'kiosk models download' again; if it keeps failing, the file on the server "
            "has changed and the pinned checksum must be reviewed."
        )
    try:
        _unpack(part, root, target, spec)
    except OSError as err:
        raise ModelError(
            f"Could not install {spec.name} in {root}: {err}. Make sure that folder is "
            "writable, has about 100 MB free and holds nothing else named "
            f"{spec.name}, then run 'kiosk models download' again."
        ) from err
    finally:
        part.unlink(missing_ok=True)
    return target


def _unpack(archive: Path, root: Path, target: Path, spec: ModelSpec) -> None:
    with tempfile.TemporaryDirectory(dir=root, prefix=".unpack-") as tmp:
        try:
            with zipfile.ZipFile(archive) as z:
                for member in z.namelist():
                    if member.startswith("/") or ".." in Path(member).parts:
                        raise ModelError(f"{spec.name}: unsafe path {member!r} in the archive")
                z.extractall(tmp)
        except zipfile.BadZipFile as err:
            raise ModelError(f"{spec.name}: the download is not a zip archive ({err})") from err
        unpacked = Path(tmp) / spec.name
        if not unpacked.is_dir():
            raise ModelError(f"{spec.name}: the archive has no {spec.name}/ folder")
        missing = [f for f in spec.required if not (unpacked / f).is_file()]
        if missing:
            raise ModelError(f"{spec.name}: the archive lacks {', '.join(missing)}")
        (unpacked / MANIFEST).write_text(json.dumps(_hashes(unpacked), indent=1, sort_keys=True))
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)


def _hashes(folder: Path) -> dict[str, str]:
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.name != MANIFEST:
            out[str(path.relative_to(folder))] = _sha256(path)
    return out


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify(folder: Path, spec: ModelSpec) -> list[str]:
    """Problems with an installed model (empty when it is intact)."""
    if not folder.is_dir():
        return [f"{spec.name} is not installed in {folder.parent}"]
    problems = [f"missing {f}" for f in spec.required if not (folder / f).is_file()]
    manifest = folder / MANIFEST
    if not manifest.is_file():
        return [*problems, "no manifest (not installed by 'kiosk models download')"]
    try:
        expected = json.loads(manifest.read_text("utf-8"))
    except (OSError, ValueError):
        expected = None
    if not isinstance(expected, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in expected.items()
    ):
        return [*problems, f"corrupt manifest {MANIFEST}"]
    for name, digest in expected.items():
        path = folder / name
        if not path.is_file():
            if f"missing {name}" not in problems:  # a required file already reported
                problems.append(f"missing {name}")
        elif _sha256(path) != digest:
            problems.append(f"changed or corrupt: {name}")
    return problems
