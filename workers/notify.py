"""The workers' Slack posts: chat command outcomes to their response_url, rule notifications
and dead-event notifications to incoming webhooks (through events/slack_posts.py: allowed hosts
only, best effort). An event's fate never depends on a chat message: posts made as an event
ends run in the background and never hold up the job.
"""

from __future__ import annotations

from expbridge.events.record import EventRecord
from expbridge.events.slack_posts import SlackPoster


def outcome_text(record: EventRecord) -> str:
    what = f"`{record.type}` on {record.target}"
    traced = f", trace {record.trace_id}" if record.trace_id else ""
    if record.status == "succeeded":
        return f":white_check_mark: {what} succeeded (event {record.id}{traced})"
    error = record.last_error.message if record.last_error is not None else "unknown error"
    return f":x: {what} failed: {error} (event {record.id}, status dead{traced})"


class Notifier(SlackPoster):
    def event_finished(self, record: EventRecord) -> None:
        """After the event's final status is stored: tell whoever is waiting."""
        if record.reply_to:
            payload = {
                "response_type": "ephemeral",
                "replace_original": False,
                "text": outcome_text(record),
            }
            self.post_later(record.reply_to, payload, "response_url")
        dead_letters = self.slack.dead_letter_webhook_url
        if record.status == "dead" and dead_letters:
            text = f":rotating_light: dead letter: {outcome_text(record)}"
            self.post_later(dead_letters, {"text": text}, "dead_letter_webhook")
