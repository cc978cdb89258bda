"""`make schemathesis`: the real ingress on a free loopback port against a real redis-server (and
the sandbox), fuzzed by schemathesis against its own /openapi.json with a fixed seed and a bounded
number of examples. Two passes: the source token over everything but the admin endpoints, then
the admin token over those. Exits non-zero when schemathesis finds any disagreement.

    python -m tests.contract.schemathesis_run [--max-examples N] [--seed S]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

from expbridge.cli.redis_server import RedisServer
from expbridge.config.loading import load_settings
from expbridge.config.logging import configure_logging
from expbridge.sandbox.runner import start_sandbox
from expbridge.service.app import create_app
from expbridge.service.http_server import listening

REPO_ROOT = Path(__file__).resolve().parents[2]
SOURCE_TOKEN = "tok_schemathesis_0123456789"
ADMIN_TOKEN = "admin_schemathesis_0123456789"
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "problem_json_4xx",
)
# (label, token, operation filter): the admin endpoints want the admin token, the rest a source's.
PASSES = (
    ("source token", SOURCE_TOKEN, ("--exclude-tag", "admin")),
    ("admin token", ADMIN_TOKEN, ("--include-tag", "admin")),
)


async def run_pass(
    base_url: str, token: str, selection: tuple[str, ...], args: argparse.Namespace, workdir: Path
) -> int:
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "run",
        f"{base_url}/openapi.json",
        "--url",
        base_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        ",".join(CHECKS),
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--workers",
        "1",
        "--request-timeout",
        "10",
        "--generation-database",
        "none",
        "--no-color",
        *selection,
    ]
    # Run in the scratch directory so schemathesis's .schemathesis/ cache stays out of the tree.
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.contract.schemathesis_hooks",
        "PYTHONPATH": os.pathsep.join(filter(None, (str(REPO_ROOT), os.environ.get("PYTHONPATH")))),
    }
    process = await asyncio.create_subprocess_exec(*command, env=env, cwd=workdir)
    return await process.wait()


async def main(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="expbridge-schemathesis-") as tmp:
        data_dir = Path(tmp)
        with RedisServer(data_dir / "redis") as redis:
            sandbox = await start_sandbox()
            try:
                settings = load_settings(
                    redis_url=redis.url,
                    sources={"growth": {"token": SOURCE_TOKEN}},
                    admin_token=ADMIN_TOKEN,
                    qonversion={
                        "secret_key": "test_sk_sandbox",
                        "base_url": f"{sandbox.url}/qonversion/v4",
                    },
                    sandbox_url=sandbox.url,
                    data_dir=data_dir / "data",
                    log_format="json",
                    log_level="WARNING",
                )
                # Only warnings and errors from the ingress: schemathesis's report is the output.
                configure_logging(settings.log_format, settings.log_level)
                app = create_app(settings)
                async with listening(
                    app, settings.http, "127.0.0.1", 0, shutdown_timeout=1
                ) as base_url:
                    failed = []
                    for label, token, selection in PASSES:
                        started = time.monotonic()
                        code = await run_pass(base_url, token, selection, args, data_dir)
                        took = time.monotonic() - started
                        print(f"schemathesis pass ({label}): exit {code} in {took:.1f}s")
                        if code:
                            failed.append(label)
            finally:
                await sandbox.close()
    if failed:
        print(f"schemathesis found disagreements in: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-examples", type=int, default=100)
    parser.add_argument("--seed", type=int, default=20261201)
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
