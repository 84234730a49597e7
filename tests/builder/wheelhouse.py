"""Offline installs for the builds in the tests: a wheelhouse, and the operator's pip variables set to it.

Every build makes its own virtual environment with `pip install pytest <declared>`. In the
tests that install reads a local wheelhouse only (`PIP_NO_INDEX`, `PIP_FIND_LINKS`: the
operator's setting for an offline worker), so it needs no network and takes a couple of
seconds. The wheelhouse holds pytest and what it requires, repacked from the distributions
installed in the test environment (refused when an installed file no longer matches its
RECORD), plus the tiny wheels a test makes with `tiny_wheel`.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import pathlib
import re
import zipfile
from collections.abc import Iterator, Mapping
from importlib import metadata

import pytest
from packaging.requirements import Requirement

WHEEL = "Wheel-Version: 1.0\nGenerator: forgeguard-tests\nRoot-Is-Purelib: true\nTag: py3-none-any\n"


def _record_hash(data: bytes) -> str:
    digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
    return f"sha256={digest}"


def write_wheel(folder: pathlib.Path, name: str, version: str, files: Mapping[str, bytes]) -> pathlib.Path:
    """`<name>-<version>-py3-none-any.whl` in `folder` holding `files` (one `.dist-info` among them)
    and the RECORD of them all."""
    (info,) = {path.split("/")[0] for path in files if path.split("/")[0].endswith(".dist-info")}
    record = f"{info}/RECORD"
    rows = [[path, _record_hash(data), str(len(data))] for path, data in sorted(files.items())]
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows([*rows, [record, "", ""]])
    wheel = folder / f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for path, data in sorted(files.items()):
            archive.writestr(path, data)
        archive.writestr(record, text.getvalue())
    wheel.chmod(0o644)
    return wheel


def tiny_wheel(folder: pathlib.Path, name: str, version: str, modules: Mapping[str, str]) -> pathlib.Path:
    """A pure-Python wheel of `modules` (path: source) named `name`, made on the spot."""
    info = f"{re.sub(r'[-_.]+', '_', name).lower()}-{version}.dist-info"
    files = {path: source.encode() for path, source in modules.items()}
    files[f"{info}/METADATA"] = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n".encode()
    files[f"{info}/WHEEL"] = WHEEL.encode()
    return write_wheel(folder, name, version, files)


def repack(dist: metadata.Distribution, folder: pathlib.Path) -> pathlib.Path:
    """The wheel `dist` was installed from, rebuilt from its installed files (pure Python only)."""
    name, version = dist.metadata["Name"], dist.version
    wheel_info = dist.read_text("WHEEL") or ""
    if "Root-Is-Purelib: true" not in wheel_info:
        raise RuntimeError(f"{name} is not a pure-Python wheel install: it cannot be repacked")
    files: dict[str, bytes] = {}
    for entry in dist.files or []:
        path = entry.as_posix()
        # Scripts (`../../../bin/…`) are remade by pip from entry_points.txt; the rest is the
        # installer's bookkeeping.
        if path.startswith("../") or "__pycache__" in entry.parts or entry.name in ("RECORD", "INSTALLER"):
            continue
        if entry.name in ("REQUESTED", "direct_url.json"):
            continue
        data = pathlib.Path(str(dist.locate_file(entry))).read_bytes()
        if entry.hash is not None and _record_hash(data) != f"{entry.hash.mode}={entry.hash.value}":
            raise RuntimeError(f"{name}: {path} differs from its RECORD: the installed copy is not clean")
        files[path] = data
    return write_wheel(folder, name, version, files)


def requirement_closure(name: str) -> Iterator[metadata.Distribution]:
    """The installed distribution `name` and every one it requires on this interpreter."""
    seen: set[str] = set()
    todo = [name]
    while todo:
        current = metadata.distribution(todo.pop())
        key = re.sub(r"[-_.]+", "-", current.metadata["Name"]).lower()
        if key in seen:
            continue
        seen.add(key)
        yield current
        for line in current.requires or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
                todo.append(requirement.name)


@pytest.fixture(scope="session")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> pathlib.Path:
    """pytest and what it requires, as wheels repacked from the test environment."""
    folder = tmp_path_factory.mktemp("wheelhouse")
    folder.chmod(0o755)  # read by the sandbox's unprivileged user
    for dist in requirement_closure("pytest"):
        repack(dist, folder)
    return folder


@pytest.fixture
def offline_installs(
    wheelhouse: pathlib.Path, tmp_path: pathlib.Path, monkeypatch: pytest.MonkeyPatch
) -> pathlib.Path:
    """Installs read the wheelhouse and this test's own folder of wheels (returned), never an index."""
    extra = tmp_path / "wheels"
    extra.mkdir()
    extra.chmod(0o755)
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    monkeypatch.setenv("PIP_FIND_LINKS", f"{wheelhouse} {extra}")
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"):
        monkeypatch.delenv(name, raising=False)
    return extra
