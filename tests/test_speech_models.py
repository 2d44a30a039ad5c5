"""Speech model download and verification, against a real local HTTP server (no mocks).

Each test builds a small zip shaped like a Vosk model, pins its SHA-256 in a ModelSpec and
serves it from ``http.server`` on 127.0.0.1. The ``kiosk models`` command is run as a real
process with ``KIOSK_MODELS_DIR`` (and ``KIOSK_VOSK_MODEL_URL``) pointing at tmp folders and
the local server. The real English model is pinned to the official file, so the CLI cannot
complete a download here; its success path is covered through ``download()`` with an
ENGLISH-shaped spec whose hash is the test archive's.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.server
import io
import json
import os
import re
import socket
import subprocess
import sys
import threading
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from kiosk import speech_models
from kiosk.speech_models import ENGLISH, MANIFEST, ModelError, ModelSpec

ROOT = Path(__file__).resolve().parent.parent
FIX = "kiosk models download"
REQUIRED = ("am/final.mdl", "conf/model.conf")
NAME = "test-model-0.1"

Route = Callable[[http.server.BaseHTTPRequestHandler], None]


# --- a real HTTP server -----------------------------------------------------------------


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        route = self.server.routes.get(self.path)  # type: ignore[attr-defined]
        if route is None:
            self.send_error(404)
        else:
            route(self)

    def log_message(self, format: str, *args: object) -> None:
        pass


class Server:
    def __init__(self) -> None:
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.routes = {}  # type: ignore[attr-defined]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_port}{path}"

    def add(self, path: str, route: Route) -> str:
        self.httpd.routes[path] = route  # type: ignore[attr-defined]
        return self.url(path)

    def serve(self, path: str, data: bytes) -> str:
        def send(h: http.server.BaseHTTPRequestHandler) -> None:
            h.send_response(200)
            h.send_header("Content-Type", "application/zip")
            h.send_header("Content-Length", str(len(data)))
            h.end_headers()
            h.wfile.write(data)

        return self.add(path, send)

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(5)


@pytest.fixture
def server() -> Iterator[Server]:
    s = Server()
    try:
        yield s
    finally:
        s.close()


def closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/model.zip"


# --- archives ---------------------------------------------------------------------------


def zip_bytes(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        for name, data in members.items():
            z.writestr(zipfile.ZipInfo(name), data)
    return buf.getvalue()


def model_zip(name: str = NAME, required: tuple[str, ...] = REQUIRED, **extra: bytes) -> bytes:
    files = {f: f"contents of {f}".encode() for f in required}
    # Bigger than one download chunk, so progress is reported more than once.
    files["graph/HCLr.fst"] = bytes(range(256)) * 800
    files.update({k.replace("__", "/"): v for k, v in extra.items()})
    return zip_bytes({f"{name}/{f}": data for f, data in files.items()})


def spec_for(data: bytes, name: str = NAME) -> ModelSpec:
    return ModelSpec(
        name=name,
        url="http://127.0.0.1:9/never-used.zip",
        sha256=hashlib.sha256(data).hexdigest(),
        required=REQUIRED,
    )


def leftovers(root: Path) -> list[str]:
    return sorted(p.name for p in root.iterdir()) if root.exists() else []


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- download ---------------------------------------------------------------------------


def test_good_download_installs_writes_manifest_and_reports_progress(
    server: Server, tmp_path: Path
) -> None:
    data = model_zip()
    url = server.serve("/model.zip", data)
    seen: list[tuple[int, int | None]] = []

    folder = speech_models.download(
        spec_for(data), tmp_path, url=url, progress=lambda d, t: seen.append((d, t))
    )

    assert folder == tmp_path / NAME
    assert leftovers(tmp_path) == [NAME]  # no .part, no .unpack- temp folder
    assert speech_models.installed(spec_for(data), tmp_path) == folder
    manifest = json.loads((folder / MANIFEST).read_text())
    files = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()} - {MANIFEST}
    assert set(manifest) == files == {*REQUIRED, "graph/HCLr.fst"}
    assert all(manifest[f] == sha(folder / f) for f in files)
    assert len(seen) > 1
    assert all(total == len(data) for _, total in seen)
    done = [d for d, _ in seen]
    assert done == sorted(set(done))
    assert done[-1] == len(data)
    assert speech_models.verify(folder, spec_for(data)) == []


def test_wrong_sha256_installs_nothing_and_says_what_to_do(server: Server, tmp_path: Path) -> None:
    data = model_zip()
    url = server.serve("/model.zip", data)
    spec = dataclasses.replace(spec_for(data), sha256="0" * 64)

    with pytest.raises(ModelError) as err:
        speech_models.download(spec, tmp_path, url=url)

    assert leftovers(tmp_path) == []
    message = str(err.value)
    assert "Nothing was installed" in message
    assert FIX in message
    assert "0" * 64 in message and hashlib.sha256(data).hexdigest() in message
    assert "\n" not in message


def test_server_error_gives_model_error_with_fix(server: Server, tmp_path: Path) -> None:
    url = server.add("/model.zip", lambda h: h.send_error(500))
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(b"x"), tmp_path, url=url)
    assert "500" in str(err.value)
    assert FIX in str(err.value)
    assert leftovers(tmp_path) == []


def test_missing_file_on_server_gives_model_error(server: Server, tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="404"):
        speech_models.download(spec_for(b"x"), tmp_path, url=server.url("/gone.zip"))
    assert leftovers(tmp_path) == []


def test_unreachable_server_gives_model_error_with_fix(tmp_path: Path) -> None:
    url = closed_port_url()
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(b"x"), tmp_path, url=url)
    assert url in str(err.value)
    assert FIX in str(err.value)
    assert leftovers(tmp_path) == []


def test_connection_cut_during_chunked_download_is_a_model_error(
    server: Server, tmp_path: Path
) -> None:
    """A proxy may send the file chunked; a dropped connection then raises
    http.client.IncompleteRead, which is not an OSError."""

    def cut(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        h.wfile.write(b"1000\r\n" + b"x" * 100)  # promises 4096 bytes, sends 100
        h.wfile.flush()
        h.close_connection = True

    url = server.add("/model.zip", cut)
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(b"x"), tmp_path, url=url)
    assert FIX in str(err.value)
    assert leftovers(tmp_path) == []


def test_connection_cut_before_content_length_is_refused(server: Server, tmp_path: Path) -> None:
    data = model_zip()

    def short(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data[: len(data) // 2])
        h.close_connection = True

    url = server.add("/model.zip", short)
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(data), tmp_path, url=url)
    assert FIX in str(err.value)
    assert leftovers(tmp_path) == []


def test_malformed_url_is_a_model_error(tmp_path: Path) -> None:
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(b"x"), tmp_path, url="not a url")
    assert FIX in str(err.value)
    assert leftovers(tmp_path) == []


def test_corrupt_archive_is_refused(server: Server, tmp_path: Path) -> None:
    data = b"this is not a zip archive" * 100
    url = server.serve("/model.zip", data)
    with pytest.raises(ModelError, match="not a zip archive"):
        speech_models.download(spec_for(data), tmp_path, url=url)
    assert leftovers(tmp_path) == []


@pytest.mark.parametrize("bad", ["../evil", f"{NAME}/../../evil", "/evil"])
def test_archive_with_unsafe_path_is_refused(server: Server, tmp_path: Path, bad: str) -> None:
    root = tmp_path / "models"
    good = {f"{NAME}/{f}": b"ok" for f in REQUIRED}
    data = zip_bytes({**good, bad: b"pwned"})
    url = server.serve("/model.zip", data)
    with pytest.raises(ModelError, match="unsafe path"):
        speech_models.download(spec_for(data), root, url=url)
    assert leftovers(root) == []
    assert leftovers(tmp_path) == ["models"]  # nothing written beside the models folder


def test_archive_missing_required_files_is_refused(server: Server, tmp_path: Path) -> None:
    data = model_zip(required=REQUIRED[:1])
    url = server.serve("/model.zip", data)
    with pytest.raises(ModelError, match=re.escape("lacks conf/model.conf")):
        speech_models.download(spec_for(data), tmp_path, url=url)
    assert leftovers(tmp_path) == []


def test_archive_without_the_model_folder_is_refused(server: Server, tmp_path: Path) -> None:
    data = model_zip(name="some-other-model")
    url = server.serve("/model.zip", data)
    with pytest.raises(ModelError, match=re.escape(f"no {NAME}/ folder")):
        speech_models.download(spec_for(data), tmp_path, url=url)
    assert leftovers(tmp_path) == []


def test_redownload_replaces_an_existing_install(server: Server, tmp_path: Path) -> None:
    old = model_zip(**{"old__only.txt": b"old"})
    new = model_zip(**{"am__final.mdl": b"new model"})
    speech_models.download(spec_for(old), tmp_path, url=server.serve("/old.zip", old))
    (tmp_path / NAME / "stray.txt").write_text("left by hand")

    folder = speech_models.download(spec_for(new), tmp_path, url=server.serve("/new.zip", new))

    assert (folder / "am/final.mdl").read_bytes() == b"new model"
    assert not (folder / "old/only.txt").exists()
    assert not (folder / "stray.txt").exists()
    assert leftovers(tmp_path) == [NAME]
    assert speech_models.verify(folder, spec_for(new)) == []


def test_failed_redownload_keeps_the_existing_install(server: Server, tmp_path: Path) -> None:
    data = model_zip()
    spec = spec_for(data)
    folder = speech_models.download(spec, tmp_path, url=server.serve("/model.zip", data))
    bad = server.serve("/bad.zip", b"garbage")
    with pytest.raises(ModelError):
        speech_models.download(spec, tmp_path, url=bad)
    assert leftovers(tmp_path) == [NAME]
    assert speech_models.verify(folder, spec) == []


def test_a_file_in_the_way_is_a_model_error_not_a_crash(server: Server, tmp_path: Path) -> None:
    data = model_zip()
    (tmp_path / NAME).write_text("not a folder")
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(data), tmp_path, url=server.serve("/m.zip", data))
    assert str(tmp_path) in str(err.value)
    assert FIX in str(err.value)
    assert leftovers(tmp_path) == [NAME]  # only the file that was there


def test_models_folder_that_cannot_be_created_is_a_model_error(
    server: Server, tmp_path: Path
) -> None:
    data = model_zip()
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(ModelError) as err:
        speech_models.download(spec_for(data), blocker, url=server.serve("/m.zip", data))
    assert "KIOSK_MODELS_DIR" in str(err.value)
    assert FIX in str(err.value)


def test_url_override_from_the_environment(
    server: Server, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = model_zip(name=ENGLISH.name, required=ENGLISH.required)
    spec = dataclasses.replace(ENGLISH, sha256=hashlib.sha256(data).hexdigest())
    monkeypatch.setenv("KIOSK_VOSK_MODEL_URL", server.serve("/mirror.zip", data))
    assert speech_models.download(spec, tmp_path) == tmp_path / ENGLISH.name
    # An explicit url wins over the environment.
    with pytest.raises(ModelError, match="404"):
        speech_models.download(spec, tmp_path, url=server.url("/gone.zip"))


# --- verify, installed, models_dir ------------------------------------------------------


@pytest.fixture
def installed_model(server: Server, tmp_path: Path) -> tuple[Path, ModelSpec]:
    data = model_zip()
    spec = spec_for(data)
    return speech_models.download(spec, tmp_path, url=server.serve("/m.zip", data)), spec


def test_verify_reports_a_changed_file(installed_model: tuple[Path, ModelSpec]) -> None:
    folder, spec = installed_model
    (folder / "graph/HCLr.fst").write_bytes(b"flipped")
    assert speech_models.verify(folder, spec) == ["changed or corrupt: graph/HCLr.fst"]


def test_verify_reports_a_deleted_file_once(installed_model: tuple[Path, ModelSpec]) -> None:
    folder, spec = installed_model
    (folder / "conf/model.conf").unlink()
    assert speech_models.verify(folder, spec) == ["missing conf/model.conf"]


def test_verify_reports_a_folder_not_installed_by_the_downloader(tmp_path: Path) -> None:
    folder = tmp_path / NAME
    for f in REQUIRED:
        (folder / f).parent.mkdir(parents=True, exist_ok=True)
        (folder / f).write_text("hand made")
    spec = spec_for(b"x")
    assert speech_models.installed(spec, tmp_path) == folder
    problems = speech_models.verify(folder, spec)
    assert len(problems) == 1 and "no manifest" in problems[0] and FIX in problems[0]


def test_verify_reports_a_model_that_is_not_installed(tmp_path: Path) -> None:
    assert speech_models.verify(tmp_path / NAME, spec_for(b"x")) == [
        f"{NAME} is not installed in {tmp_path}"
    ]


@pytest.mark.parametrize("manifest", ["{not json", "[1, 2]", '{"am/final.mdl": 1}', ""])
def test_verify_reports_a_corrupt_manifest(
    installed_model: tuple[Path, ModelSpec], manifest: str
) -> None:
    folder, spec = installed_model
    (folder / MANIFEST).write_text(manifest)
    problems = speech_models.verify(folder, spec)
    assert problems and any("manifest" in p for p in problems)


def test_installed_is_none_for_an_incomplete_folder(
    installed_model: tuple[Path, ModelSpec], tmp_path: Path
) -> None:
    folder, spec = installed_model
    assert speech_models.installed(spec, tmp_path) == folder
    (folder / "am/final.mdl").unlink()
    assert speech_models.installed(spec, tmp_path) is None
    assert speech_models.installed(spec, tmp_path / "empty") is None


def test_models_dir_honours_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KIOSK_MODELS_DIR", str(tmp_path))
    assert speech_models.models_dir() == tmp_path
    monkeypatch.delenv("KIOSK_MODELS_DIR")
    assert speech_models.models_dir() == ROOT / "models"


# --- kiosk models, as a real process ----------------------------------------------------


def kiosk_models(
    action: str, models: Path, url: str | None = None, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KIOSK_MODELS_DIR": str(models)}
    env.pop("KIOSK_VOSK_MODEL_URL", None)
    if url is not None:
        env["KIOSK_VOSK_MODEL_URL"] = url
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli", "models", action],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env,
        check=False,
    )


def assert_one_paragraph_error(out: subprocess.CompletedProcess[str], *needles: str) -> str:
    assert out.returncode == 1, out
    err = out.stderr.strip()
    assert "Traceback" not in out.stderr
    assert err and "\n\n" not in err, err
    for needle in (FIX, *needles):
        assert needle in err, err
    return err


def install_english_shaped(server: Server, models: Path) -> Path:
    """A real download of a zip shaped like the English model (its pinned hash swapped
    for the test archive's), so the CLI sees an installed model with a manifest."""
    data = model_zip(name=ENGLISH.name, required=ENGLISH.required)
    spec = dataclasses.replace(ENGLISH, sha256=hashlib.sha256(data).hexdigest())
    return speech_models.download(spec, models, url=server.serve("/en.zip", data))


def test_cli_list_says_not_installed(tmp_path: Path) -> None:
    out = kiosk_models("list", tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"{ENGLISH.name}: not installed (looked in {tmp_path})" in out.stdout


def test_cli_list_and_verify_an_installed_model(server: Server, tmp_path: Path) -> None:
    folder = install_english_shaped(server, tmp_path)
    out = kiosk_models("list", tmp_path)
    assert out.returncode == 0, out.stderr
    assert f"{ENGLISH.name}: installed in {folder}" in out.stdout
    out = kiosk_models("verify", tmp_path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{ENGLISH.name}: intact"


def test_cli_verify_not_installed(tmp_path: Path) -> None:
    out = kiosk_models("verify", tmp_path)
    assert_one_paragraph_error(out, "not installed")


def test_cli_verify_a_corrupted_model(server: Server, tmp_path: Path) -> None:
    folder = install_english_shaped(server, tmp_path)
    (folder / "conf/mfcc.conf").write_text("tampered")
    out = kiosk_models("verify", tmp_path)
    assert_one_paragraph_error(out, "changed or corrupt: conf/mfcc.conf")


def test_cli_verify_a_corrupt_manifest(server: Server, tmp_path: Path) -> None:
    folder = install_english_shaped(server, tmp_path)
    (folder / MANIFEST).write_text("{truncated")
    out = kiosk_models("verify", tmp_path)
    assert_one_paragraph_error(out, "manifest")


def test_cli_download_unreachable_is_one_clear_paragraph(tmp_path: Path) -> None:
    url = closed_port_url()
    out = kiosk_models("download", tmp_path / "models", url=url)
    err = assert_one_paragraph_error(out, url)
    assert err.startswith("kiosk models download: Could not download")
    assert leftovers(tmp_path / "models") == []


def _resolves(host: str) -> bool:
    try:
        socket.getaddrinfo(host, 443)
    except OSError:
        return False
    return True


@pytest.mark.skipif(
    _resolves("alphacephei.com"), reason="online: would really download the 40 MB model"
)
def test_cli_download_from_the_real_url_offline(tmp_path: Path) -> None:
    out = kiosk_models("download", tmp_path, timeout=150)
    assert_one_paragraph_error(out, ENGLISH.url)
    assert leftovers(tmp_path) == []


def test_cli_download_of_the_wrong_file_is_refused(server: Server, tmp_path: Path) -> None:
    data = model_zip(name=ENGLISH.name, required=ENGLISH.required)
    out = kiosk_models("download", tmp_path, url=server.serve("/mirror.zip", data))
    assert "100%" in out.stderr  # the progress bar ran to the Content-Length
    assert "Traceback" not in out.stderr
    assert out.returncode == 1
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith("kiosk models download: The download of")
    assert "Nothing was installed" in last and FIX in last
    assert leftovers(tmp_path) == []


def test_cli_download_with_a_bad_url_override(tmp_path: Path) -> None:
    out = kiosk_models("download", tmp_path, url="alphacephei.com/no-scheme.zip")
    assert_one_paragraph_error(out, "no-scheme.zip")


def test_cli_download_into_an_unusable_models_dir(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    out = kiosk_models("download", blocker / "models", url=closed_port_url())
    assert_one_paragraph_error(out, "KIOSK_MODELS_DIR")
