"""The rules section of the YAML file: the example file loads; every mistake stops start-up with
one line naming the rule and the field (structure in config/, catalog checks in the worker)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from expbridge.config.chatops import SlackChatOps, refusal_for_url
from expbridge.config.loading import ConfigError, load_config, load_settings
from expbridge.config.rules import parse_duration
from expbridge.workers.rules.book import compile_rules

EXAMPLE = Path(__file__).parents[2] / "config" / "example.yaml"
HOOK = "https://hooks.slack.com/services/T1/B1/x"


def write(tmp_path: Path, content: dict[str, Any]) -> Path:
    path = tmp_path / "expbridge.yaml"
    path.write_text(yaml.safe_dump(content), encoding="utf-8")
    return path


def schedule_rule(**changes: Any) -> dict[str, Any]:
    rule: dict[str, Any] = {
        "name": "stop-winner",
        "trigger": {"schedule": "1h"},
        "targets": ["qonversion:exp_1"],
        "when": {"min_runtime_days": 7, "chance_to_win_at_least": 0.95},
        "actions": [{"event": "experiment.stop"}],
    }
    rule.update(changes)
    return rule


def load_error(tmp_path: Path, content: dict[str, Any], **settings: Any) -> str:
    with pytest.raises(ConfigError) as caught:
        loaded = load_settings(config=write(tmp_path, content), **settings)
        compile_rules(load_config(loaded), loaded)
    return str(caught.value)


def test_the_example_file_loads_and_compiles() -> None:
    settings = load_settings(config=EXAMPLE, slack={"notify_webhook_url": HOOK})
    book = compile_rules(load_config(settings), settings)
    assert [r.name for r in book.scheduled] == [
        "stop-when-significant",
        "pause-losers-preview",
        "pause-on-srm",
    ]
    assert book.scheduled[0].rule.when.significant == "better"
    assert [r.name for r in book.on_threshold] == ["pause-on-refund-spike"]
    stop = book.scheduled[0]
    assert [t.ordering_key for t in stop.targets] == ["qonversion:exp_8f3a", "convert:1001/2002"]
    assert stop.rule.trigger.schedule == 3600 and stop.cooldown_ms is None
    assert book.scheduled[1].dry_run and not stop.dry_run
    assert book.on_threshold[0].cooldown_ms == 86_400_000
    assert "analytics" in settings.sources


def test_global_dry_run_makes_every_rule_dry(tmp_path: Path) -> None:
    settings = load_settings(
        config=write(tmp_path, {"rules": [schedule_rule()]}), rules={"dry_run": True}
    )
    assert compile_rules(load_config(settings), settings).rules[0].dry_run


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"when": {"confidence_at_least": 1.5}},
            "rule 'stop-winner' (rules[0]): when.confidence_at_least: Input should be less than",
        ),
        ({"trigger": {"schedule": "soon"}}, "rule 'stop-winner' (rules[0]): trigger.schedule: "),
        (
            {"trigger": {"schedule": "1h", "event": "goal.threshold_reached"}},
            "rule 'stop-winner' (rules[0]): trigger: a trigger has either schedule",
        ),
        ({"targets": []}, "rule 'stop-winner' (rules[0]): a schedule rule needs targets"),
        ({"when": {}}, "rule 'stop-winner' (rules[0]): a schedule rule needs a condition"),
        ({"actions": []}, "rule 'stop-winner' (rules[0]): actions: List should have at least 1"),
        (
            {"actions": [{"event": "experiment.stop", "notify": "x"}]},
            "rule 'stop-winner' (rules[0]): actions.0: an action has either event",
        ),
        (
            {"actions": [{"event": "experiment.update", "data": {"target": {}}}]},
            "actions.0: data.target is not allowed",
        ),
        ({"name": "Stop Winner"}, "rule 'Stop Winner' (rules[0]): name: String should match"),
        ({"cooldown": "-1h"}, "cooldown: "),
        ({"dryrun": True}, "rule 'stop-winner' (rules[0]): dryrun: Extra inputs are not permitted"),
        (
            {
                "trigger": {"event": "goal.threshold_reached"},
                "targets": [],
                "when": {"confidence_at_least": 0.9},
            },
            "when.confidence_at_least: an event rule takes only the guardrails",
        ),
        ({"trigger": {"event": "experiment.start"}}, "trigger.event: Input should be"),
        (
            {"when": {"significant": "better", "alpha": 0.6}},
            "rule 'stop-winner' (rules[0]): when.alpha: alpha is the false-stop rate, in (0, 0.5]",
        ),
        ({"when": {"significant": "better", "alpha": 0}}, "when.alpha: alpha is the false-stop"),
        (
            {"when": {"significant": "better", "mixing_sd": 0}},
            "rule 'stop-winner' (rules[0]): when.mixing_sd: the mixing parameter must be positive",
        ),
        (
            {"when": {"significant": "better", "srm_p_below": 1}},
            "rule 'stop-winner' (rules[0]): when.srm_p_below: the SRM threshold is a p-value in "
            "(0, 1)",
        ),
        (
            {"when": {"significant": "better", "planned_split": {"a": 50, "b": 40}}},
            "rule 'stop-winner' (rules[0]): when.planned_split: the planned split's percentages "
            "add up to 90, not 100",
        ),
        ({"when": {"significant": "sideways"}}, "when.significant: Input should be 'better'"),
        (
            {
                "trigger": {"event": "goal.threshold_reached"},
                "targets": [],
                "when": {"srm_p_below": 0.01},
            },
            "when.srm_p_below and when.planned_split are for",
        ),
        (
            {"when": {"min_runtime_days": 7, "alpha": 0.01}},
            "when: alpha goes with significant (better, worse or either)",
        ),
    ],
)
def test_structure_errors_name_the_rule_and_field(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    message = load_error(tmp_path, {"rules": [schedule_rule(**changes)]})
    assert message.startswith("invalid EXPBRIDGE_CONFIG file ")
    assert expected in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"targets": ["nowhere"]}, "targets[0]: unknown target 'nowhere'"),
        ({"targets": ["github:x"]}, "targets[0]: unknown provider 'github'"),
        (
            {"actions": [{"event": "experiment.explode"}]},
            "actions[0].event: unknown event type 'experiment.explode'",
        ),
        (
            {"actions": [{"event": "experiment.archive"}]},
            "actions[0].event: experiment.archive is not supported by qonversion",
        ),
        (
            {"actions": [{"event": "experiment.update", "data": {"changes": {"bogus": 1}}}]},
            "actions[0].data.changes.bogus: Extra inputs are not permitted",
        ),
        (
            {"actions": [{"event": "goal.threshold_reached"}]},
            "actions[0].event: a rule cannot emit",
        ),
        (
            {"actions": [{"notify": "hello"}]},
            "actions[0].notify: no webhook_url, and EXPBRIDGE_SLACK__NOTIFY_WEBHOOK_URL is unset",
        ),
        (
            {"actions": [{"notify": {"text": "hi", "webhook_url": "https://evil.example/x"}}]},
            "actions[0].notify.webhook_url: host evil.example is not in",
        ),
    ],
)
def test_catalog_and_target_errors_name_the_rule_and_field(
    tmp_path: Path, changes: dict[str, Any], expected: str
) -> None:
    message = load_error(tmp_path, {"rules": [schedule_rule(**changes)]})
    assert f"rule 'stop-winner' (rules[0]): {expected}" in message, message


def test_duplicate_names_and_unknown_sections(tmp_path: Path) -> None:
    assert "rules[1]: the name 'stop-winner' is used twice" in load_error(
        tmp_path, {"rules": [schedule_rule(), schedule_rule()]}
    )
    assert "chatops.slack.permissions.0.commands.0: Input should be" in load_error(
        tmp_path, {"chatops": {"slack": {"permissions": [{"users": ["U1"], "commands": ["rm"]}]}}}
    )


def test_event_rule_without_targets_checks_data_against_some_provider(tmp_path: Path) -> None:
    rule = {
        "name": "archive-on-spike",
        "trigger": {"event": "goal.threshold_reached", "goal_id": "g"},
        "actions": [{"event": "experiment.archive"}],  # Convert only: fine without targets
    }
    settings = load_settings(config=write(tmp_path, {"rules": [rule]}))
    assert compile_rules(load_config(settings), settings).on_threshold[0].targets == ()


def test_durations() -> None:
    assert [parse_duration(v) for v in ("90s", "15m", "1h", "7d", 42)] == [
        90,
        900,
        3600,
        604800,
        42,
    ]
    with pytest.raises(ValueError):
        parse_duration("1 week")


def test_slack_permissions_and_hosts() -> None:
    chatops = SlackChatOps.model_validate(
        {
            "permissions": [
                {"users": ["U1"], "channels": ["C1"], "commands": ["stop"]},
                {"users": ["*"], "commands": ["status"]},
            ]
        }
    )
    assert chatops.allows("U1", "C1", "stop")
    assert not chatops.allows("U1", "C2", "stop")
    assert not chatops.allows("U2", "C1", "stop")
    assert chatops.allows("U2", "C9", "status") and chatops.allows("U9", "C9", "help")
    assert refusal_for_url("https://hooks.slack.com/commands/1/2", ["hooks.slack.com"]) is None
    assert refusal_for_url("http://hooks.slack.com/x", ["hooks.slack.com"]) is not None
    assert refusal_for_url("http://127.0.0.1:9/x", ["127.0.0.1"]) is None
    assert "not in" in (refusal_for_url("https://evil.example/x", ["hooks.slack.com"]) or "")
    assert refusal_for_url("", ["hooks.slack.com"]) == "not a URL"


def test_slack_settings_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EXPBRIDGE_SLACK__SIGNING_SECRET", "s3cret")
    monkeypatch.setenv("EXPBRIDGE_SLACK__ALLOWED_HOSTS", "hooks.slack.com, 127.0.0.1")
    slack = load_settings().slack
    assert slack.signing_secret is not None and slack.allowed_hosts == [
        "hooks.slack.com",
        "127.0.0.1",
    ]
    monkeypatch.setenv("EXPBRIDGE_SLACK__DEAD_LETTER_WEBHOOK_URL", "https://evil.example/x")
    with pytest.raises(ConfigError, match="EXPBRIDGE_SLACK: dead_letter_webhook_url: host"):
        load_settings()


def test_the_rules_page_shows_the_example_file() -> None:
    example = EXAMPLE.read_text(encoding="utf-8").split("\n")
    body = "\n".join(line for line in example[2:]).strip()  # without the two header lines
    readme = (EXAMPLE.parents[1] / "docs" / "rules.md").read_text(encoding="utf-8")
    assert f"```yaml\n{body}\n```" in readme
