"""`pip install .` puts exactly one import name, `expbridge`, into site-packages."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def test_pip_install_adds_only_expbridge_and_its_package_data(tmp_path: Path) -> None:
    target = tmp_path / "site-packages"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-cache-dir",
            "--target",
            str(target),
            str(REPO_ROOT),
        ],
        check=True,
        timeout=240,
        env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    names = {
        path.name.removesuffix(".py")
        for path in target.iterdir()
        if not path.name.endswith((".dist-info", ".pth"))
        and path.name not in {"bin", "__pycache__"}
    }
    assert names == {"expbridge"}
    # The installed copy is real files (not links back into the checkout) with its Lua and HTML.
    installed = target / "expbridge"
    assert not (installed / "events").is_symlink()
    assert (installed / "events" / "store" / "lua" / "accept.lua").is_file()
    assert (installed / "workers" / "lua" / "acquire_slot.lua").is_file()
    assert (installed / "service" / "openapi" / "docs.html").is_file()
    # And it imports from there, scripts included (the venv supplies the dependencies).
    probe = subprocess.run(
        [
            sys.executable,
            "-c",
            "import expbridge.events.store.queue as q, expbridge.workers.worker as w;"
            "print(q.__file__); print(w.__file__)",
        ],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(target)},
    )
    assert all(line.startswith(str(target)) for line in probe.stdout.split())
