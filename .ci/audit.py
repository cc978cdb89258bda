"""`make audit`: pip-audit over the lock's export, and an honest account of what it checked.

pip-audit asks PyPI for each pin's advisories (`/pypi/NAME/VERSION/json`). Where that page is
not served (a registry front that serves only the project pages, as on our CI machines), it
skips the pin and still prints "No known vulnerabilities found". So this fails on any
vulnerability pip-audit reports and, for each pin it skipped, reads the project page
(`/pypi/NAME/json`): its advisories are those of the latest release, so a pin at the latest
release is checked there, and any other pin is listed as unchecked — which fails the audit
only with AUDIT_STRICT=1.

Usage: python .ci/audit.py requirements/dev.txt
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from typing import Any

PYPI_JSON = "https://pypi.org/pypi/{name}/json"


def pip_audit(requirements: str) -> list[dict[str, Any]]:
    command = [
        sys.executable,
        "-m",
        "pip_audit",
        "--disable-pip",
        "--require-hashes",
        "--progress-spinner",
        "off",
        "--format",
        "json",
        "-r",
        requirements,
    ]
    result = subprocess.run(command, capture_output=True, text=True, timeout=900, check=False)
    if not result.stdout.strip():
        sys.exit(f"pip-audit gave no report:\n{result.stderr}")
    dependencies: list[dict[str, Any]] = json.loads(result.stdout)["dependencies"]
    return dependencies


def latest_release_advisories(name: str) -> tuple[str, list[dict[str, Any]]]:
    """(latest version, its advisories that were not withdrawn) from the project page."""
    with urllib.request.urlopen(PYPI_JSON.format(name=name), timeout=30) as response:
        page = json.load(response)
    advisories = [v for v in page.get("vulnerabilities") or [] if not v.get("withdrawn")]
    return page["info"]["version"], advisories


def main(requirements: str) -> int:
    found: list[str] = []
    by_pip_audit, by_project_page, unchecked = 0, 0, []
    for dependency in pip_audit(requirements):
        name, version = dependency["name"], dependency.get("version")
        if version is None:  # a skipped pin: pip-audit names its version only in the reason
            pinned = re.search(r"\(([^()\s]+)\)$", dependency.get("skip_reason", ""))
            version = pinned[1] if pinned else None
        if "skip_reason" not in dependency:
            by_pip_audit += 1
            found += [
                f"{name} {version}: {v['id']} (fixed in {v['fix_versions']})"
                for v in dependency.get("vulns", [])
            ]
            continue
        try:
            latest, advisories = latest_release_advisories(name)
        except (urllib.error.URLError, TimeoutError, KeyError, ValueError) as error:
            unchecked.append(f"{name} {version} (no project page: {error})")
            continue
        if version != latest:
            unchecked.append(f"{name} {version} (latest {latest})")
            continue
        by_project_page += 1
        found += [f"{name} {version}: {v['id']} (fixed in {v.get('fixed_in')})" for v in advisories]
    total = by_pip_audit + by_project_page + len(unchecked)
    print(
        f"audit of {requirements}: {total} pins; {by_pip_audit} checked by pip-audit, "
        f"{by_project_page} against PyPI's advisories for their (latest) release, "
        f"{len(unchecked)} unchecked"
    )
    for line in unchecked:
        print(f"  unchecked: {line}")
    for line in found:
        print(f"  VULNERABLE: {line}")
    if found:
        return 1
    if unchecked and os.environ.get("AUDIT_STRICT") == "1":
        print("AUDIT_STRICT=1: unchecked pins fail the audit")
        return 1
    print("no known vulnerabilities in the pins checked")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
