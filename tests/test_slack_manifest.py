"""The app manifest asks for exactly the scopes the app uses, and subscribes to the events it answers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from bot.config import Settings

MANIFEST = Path(__file__).resolve().parents[1] / "bot" / "slack" / "manifest.yaml"

# Which scope each Web API method or event the app uses needs (api.slack.com/methods, /events).
NEEDED_BY = {
    "commands": "the /mesh slash command",
    "chat:write": "chat.postMessage",
    "app_mentions:read": "app_mention",
    "im:history": "message.im",
    "im:write": "conversations.open (report to the asker's DM)",
    "channels:history": "message.channels",
    "groups:history": "message.groups",
    "files:write": "files.getUploadURLExternal / files.completeUploadExternal",
    "usergroups:read": "usergroups.users.list (operators named by user group)",
}
EVENT_SCOPE = {
    "app_mention": "app_mentions:read",
    "message.im": "im:history",
    "message.channels": "channels:history",
    "message.groups": "groups:history",
}


def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    return loaded


def test_scopes_are_exactly_the_needed_ones() -> None:
    assert sorted(manifest()["oauth_config"]["scopes"]["bot"]) == sorted(NEEDED_BY)


def test_every_event_has_its_scope_and_socket_mode_is_on() -> None:
    data = manifest()
    events = data["settings"]["event_subscriptions"]["bot_events"]
    assert sorted(events) == sorted(EVENT_SCOPE)
    scopes = set(data["oauth_config"]["scopes"]["bot"])
    assert {EVENT_SCOPE[e] for e in events} <= scopes
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True


def test_slash_command_matches_the_default_setting() -> None:
    commands = [c["command"] for c in manifest()["features"]["slash_commands"]]
    assert commands == [Settings.model_fields["command"].default]


def test_usage_hint_names_every_slash_subcommand() -> None:
    from handlers import COMMANDS

    [slash] = manifest()["features"]["slash_commands"]
    named = {part.strip().split()[0] for part in slash["usage_hint"].split(" | ")}
    assert set(COMMANDS) <= named, f"usage_hint misses {sorted(set(COMMANDS) - named)}"
