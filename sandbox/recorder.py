"""The log of every request the simulated providers received, for tests to inspect."""

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from multidict import CIMultiDictProxy

REDACTED_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie"})


@dataclass
class RequestRecord:
    seq: int
    time: str
    provider: str
    method: str
    path: str
    query: dict[str, str | list[str]]
    headers: dict[str, str]
    body: Any
    status: int | None = None
    fault: str | None = None
    idempotency_key: str | None = None
    idempotent_replay: bool = False
    # Set when a fault closed the connection: nothing was answered, so status stays null.
    dropped: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "provider": self.provider,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "headers": self.headers,
            "body": self.body,
            "status": self.status,
            "fault": self.fault,
            "idempotency_key": self.idempotency_key,
            "idempotent_replay": self.idempotent_replay,
        }


@dataclass
class RequestLog:
    records: list[RequestRecord] = field(default_factory=list)
    next_seq: int = 1

    def start(
        self,
        provider: str,
        method: str,
        path: str,
        query: dict[str, str | list[str]],
        headers: CIMultiDictProxy[str],
        raw_body: bytes,
    ) -> RequestRecord:
        record = RequestRecord(
            seq=self.next_seq,
            time=datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            provider=provider,
            method=method,
            path=path,
            query=query,
            headers=redact_headers(headers),
            body=decode_body(raw_body),
            idempotency_key=headers.get("Idempotency-Key"),
        )
        self.next_seq += 1
        self.records.append(record)
        return record

    def select(self, provider: str | None, path_prefix: str | None) -> list[RequestRecord]:
        return [
            r
            for r in self.records
            if (provider is None or r.provider == provider)
            and (path_prefix is None or r.path.startswith(path_prefix))
        ]

    def clear(self) -> None:
        self.records.clear()


def redact_headers(headers: CIMultiDictProxy[str]) -> dict[str, str]:
    """Keep the scheme of credentials (tests assert on it) and drop the secret part."""
    out: dict[str, str] = {}
    for name, value in headers.items():
        if name.lower() in REDACTED_HEADERS:
            scheme = value.split(" ", 1)[0] if " " in value else ""
            value = f"{scheme} [redacted]".strip()
        out[name] = value
    return out


def decode_body(raw: bytes) -> Any:
    if not raw:
        return None
    text = raw.decode("utf-8", errors="replace")
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text
