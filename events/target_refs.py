"""Targets named in one word, as rules and chat commands name them: an alias from the config
file, `qonversion:<experiment_id>` or `convert:<project_id>/<experience_id>`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import TypeAdapter, ValidationError

from expbridge.config.file import FileConfig
from expbridge.config.loading import ConfigError
from expbridge.events.convert.kinds import OBJECT_KINDS
from expbridge.events.targets import AnyTarget, Target

TARGET_ADAPTER: TypeAdapter[AnyTarget] = TypeAdapter(Target)
EXAMPLES = "an alias, qonversion:EXPERIMENT_ID or convert:PROJECT_ID/EXPERIENCE_ID"


CONVERT_KINDS = {kind.singular: kind.id_field for kind in OBJECT_KINDS}


def target_fields(text: str) -> dict[str, Any] | None:
    """A target in its ordering-key form — `qonversion[:EXP]`, `convert[:PID[/EID | /goal:ID |
    /hypothesis:ID | /audience:ID]]` — as target fields; None for a bare word (an alias)."""
    provider, sep, rest = text.partition(":")
    if provider == "qonversion":
        return {"provider": "qonversion", **({"experiment_id": rest} if rest else {})}
    if provider == "convert":
        fields = {"provider": "convert"}
        project_id, _, resource = rest.partition("/")
        if project_id:
            fields["project_id"] = project_id
        kind, colon, resource_id = resource.partition(":")
        if colon and kind in CONVERT_KINDS:
            fields[CONVERT_KINDS[kind]] = resource_id
        elif resource:
            fields["experience_id"] = resource
        return fields
    if sep:
        raise ValueError(f"unknown provider {provider!r} in {text!r} (use {EXAMPLES})")
    return None


def config_aliases(file_config: FileConfig) -> dict[str, AnyTarget]:
    """The `targets:` of the config file, checked once at start-up."""
    aliases = {}
    for name, raw in file_config.targets.items():
        try:
            aliases[name] = TARGET_ADAPTER.validate_python(raw)
        except ValidationError as error:
            first = error.errors(include_url=False)[0]
            raise ConfigError(
                f"invalid target alias {name!r} in EXPBRIDGE_CONFIG: {first['msg']}"
            ) from None
    return aliases


def resolve_ref(text: str, aliases: Mapping[str, AnyTarget]) -> AnyTarget:
    """The experiment `text` names; ValueError with a message for people when it names none."""
    text = text.strip()
    fields = target_fields(text)
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
