"""Fetch and unpack the Elasticsearch test distribution, and find a JDK that can run it.

The integ-test zip from Maven Central ships no JDK and only the core modules (see ARCHITECTURE.md,
"Elasticsearch in tests and demos"). Everything is cached per version under AUDITWATCH_CACHE.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import zipfile
from functools import cache
from pathlib import Path
from typing import Final

from auditwatch.errors import AuditwatchError

DEFAULT_VERSION: Final = "8.19.21"
_ARTIFACT: Final = "org.elasticsearch.distribution.integ-test-zip:elasticsearch:{version}:zip"
_JVM_ROOT: Final = Path("/usr/lib/jvm")
_COMPLETE: Final = ".auditwatch-complete"  # written last, so a half-unpacked home is never used


class DistributionError(AuditwatchError, RuntimeError):
    """The distribution or a suitable JDK could not be provided."""


def default_version() -> str:
    """The Elasticsearch version to use: env AUDITWATCH_ES_VERSION, else the project default."""
    return os.environ.get("AUDITWATCH_ES_VERSION") or DEFAULT_VERSION


def cache_dir() -> Path:
    """Where distributions are cached: env AUDITWATCH_CACHE, else ~/.cache/auditwatch."""
    configured = os.environ.get("AUDITWATCH_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "auditwatch"


def ensure_distribution(version: str | None = None) -> Path:
    """Return the unpacked Elasticsearch home for `version`, fetching it with mvn when not cached."""
    version = version or default_version()
    root = cache_dir()
    home = root / f"elasticsearch-{version}"
    if (home / _COMPLETE).is_file():
        return home
    archive = _ensure_archive(version, root / "dist")
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".unpack-{version}-", dir=root))
    try:
        _unzip(archive, staging)
        unpacked = staging / f"elasticsearch-{version}"
        if not (unpacked / "bin" / "elasticsearch").is_file():
            raise DistributionError(f"{archive}: no elasticsearch-{version}/bin/elasticsearch inside")
        (unpacked / _COMPLETE).write_text(version + "\n", encoding="utf-8")
        if home.exists():  # a previous unpack was interrupted before it completed
            shutil.rmtree(home)
        try:
            unpacked.rename(home)
        except OSError:
            if not (home / _COMPLETE).is_file():  # lost a race to another process: theirs is fine
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return home


def _ensure_archive(version: str, dist: Path) -> Path:
    archive = dist / f"elasticsearch-{version}.zip"
    if archive.is_file() and zipfile.is_zipfile(archive):
        return archive
    mvn = shutil.which("mvn")
    if mvn is None:
        raise DistributionError(f"{archive} is not cached and mvn is not installed to fetch it")
    dist.mkdir(parents=True, exist_ok=True)
    download = Path(tempfile.mkdtemp(prefix=".download-", dir=dist))
    try:
        command = [
            mvn,
            "-q",
            "-B",
            "dependency:copy",
            f"-Dartifact={_ARTIFACT.format(version=version)}",
            f"-DoutputDirectory={download}",
        ]
        result = subprocess.run(command, capture_output=True, text=True, check=False)
        fetched = download / archive.name
        if result.returncode != 0 or not fetched.is_file():
            detail = (result.stdout + result.stderr).strip()[-2000:]
            raise DistributionError(f"mvn could not fetch Elasticsearch {version}: {detail}")
        fetched.replace(archive)
    finally:
        shutil.rmtree(download, ignore_errors=True)
    return archive


def _unzip(archive: Path, target: Path) -> None:
    with zipfile.ZipFile(archive) as bundle:
        for member in bundle.infolist():
            bundle.extract(member, target)
            mode = member.external_attr >> 16  # zipfile drops Unix permissions: restore them
            if mode:
                os.chmod(target / member.filename, mode & 0o7777)


def required_java_major(version: str) -> int:
    """The lowest Java feature release that runs Elasticsearch `version`."""
    return 21 if int(version.split(".", 1)[0]) >= 9 else 17


def find_java(version: str | None = None) -> Path:
    """Return a JAVA_HOME able to run `version`: ES_JAVA_HOME, else /usr/lib/jvm, else apt (root)."""
    version = version or default_version()
    configured = os.environ.get("ES_JAVA_HOME")
    if configured:
        if not (Path(configured) / "bin" / "java").is_file():
            raise DistributionError(f"ES_JAVA_HOME={configured} has no bin/java")
        return Path(configured)
    minimum = required_java_major(version)
    found = _installed_java(minimum)
    if found is not None:
        return found
    if os.geteuid() != 0:
        raise DistributionError(
            f"no JDK >= {minimum} with jdk.incubator.vector under {_JVM_ROOT}; set ES_JAVA_HOME "
            f"or install openjdk-{minimum}-jre-headless"
        )
    _apt_install(f"openjdk-{minimum}-jre-headless")
    _jdk_info.cache_clear()
    found = _installed_java(minimum)
    if found is None:
        raise DistributionError(f"installed openjdk-{minimum}-jre-headless but found no usable JDK")
    return found


def _installed_java(minimum: int) -> Path | None:
    """The oldest suitable JDK (the combination Elasticsearch was tested with most)."""
    if not _JVM_ROOT.is_dir():
        return None
    candidates: list[tuple[int, str, Path]] = []
    seen: set[Path] = set()
    for entry in sorted(_JVM_ROOT.iterdir()):
        real = entry.resolve()
        if real in seen or not (real / "bin" / "java").is_file():
            continue
        seen.add(real)
        major, has_vector = _jdk_info(real)
        if major >= minimum and has_vector:
            candidates.append((major, entry.name, real))
    return min(candidates)[2] if candidates else None


@cache
def _jdk_info(home: Path) -> tuple[int, bool]:
    """(feature release, has jdk.incubator.vector) of the JDK at `home`; (0, False) if unusable."""
    java = str(home / "bin" / "java")
    try:
        modules = subprocess.run(
            [java, "--list-modules"], capture_output=True, text=True, timeout=60, check=False
        )
        probe = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return 0, False
    match = re.search(r'version "(\d+)', probe.stderr)
    if modules.returncode != 0 or match is None:
        return 0, False
    has_vector = any(line.startswith("jdk.incubator.vector") for line in modules.stdout.splitlines())
    return int(match.group(1)), has_vector


def _apt_install(package: str) -> None:
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-q"], ["apt-get", "install", "-y", "-q", package]):
        result = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
        if result.returncode != 0:
            detail = (result.stdout + result.stderr).strip()[-2000:]
            raise DistributionError(f"{' '.join(command)} failed: {detail}")
