"""Targets named in one word, as rules and chat commands name them: an alias from the config
file, `qonversion:<experiment_id>` or `convert:<project_id>/<experience_id>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from events.targets import AnyTarget, Target

TARGET_ADAPTER: TypeAdapter[AnyTarget] = TypeAdapter(Target)
EXAMPLES = "an alias, qonversion:EXPERIMENT_ID or convert:PROJECT_ID/EXPERIENCE_ID"


def _fields(text: str) -> dict[str, Any] | None:
    provider, sep, rest = text.partition(":")
    if not sep:
        return None
    if provider == "qonversion":
        return {"provider": "qonversion", "experiment_id": rest}
    if provider == "convert":
        project_id, _, experience_id = rest.partition("/")
        return {"provider": "convert", "project_id": project_id, "experience_id": experience_id}
    raise ValueError(f"unknown provider {provider!r} in {text!r} (use {EXAMPLES})")


def resolve_ref(text: str, aliases: Mapping[str, AnyTarget]) -> AnyTarget:
    """The experiment `text` names; ValueError with a message for people when it names none."""
    text = text.strip()
    fields = _fields(text)
    if fields is None:
        if text in aliases:
            return aliases[text]
        known = ", ".join(sorted(aliases)) or "none configured"
        raise ValueError(f"unknown target {text!r}: not an alias (known: {known}) nor {EXAMPLES}")
    try:
        return TARGET_ADAPTER.validate_python(fields)
    except ValidationError as error:
        first = error.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"][1:])
        raise ValueError(f"invalid target {text!r}: {where}: {first['msg']}") from None
