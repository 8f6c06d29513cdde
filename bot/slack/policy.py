"""Who may run what from Slack (DESIGN "Authorization (Slack)"): the pipeline's policy for this surface.

It knows no command by name: what a command reads, changes and targets comes from its declaration
(`handlers.registry`) and its parsed arguments. User-group membership is looked up through a
function the app passes in (Slack's `usergroups.users.list`, cached there).
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

from bot.config import Settings
from handlers import Args, Command, Context, Refusal, Reply, Section
from handlers.messages import msg
from knowledge import Language

RATE_WINDOW = 60.0
"""MESHBOT_RATE_LIMIT counts commands in this many seconds."""

MembersOf = Callable[[str], frozenset[str]]
"""A user group's member ids (S… -> {U…})."""


def notice(text: str, language: Language, *, error: bool = False, refused: str | None = None) -> Reply:
    """A one-section reply for refusals and notices (text is trusted UI text; the renderer escapes)."""
    data: dict[str, object] = {"notice": text}
    if refused:
        data["refused"] = refused
    return Reply(title="meshbot", sections=[Section(text=text)], data=data, language=language, error=error)


def refusal(reason: str, text: str, language: Language) -> Refusal:
    return Refusal(reply=notice(text, language, refused=reason), reason=reason)


class SlackPolicy:
    def __init__(
        self, settings: Settings, members_of: MembersOf | None = None, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.settings = settings
        self.members_of = members_of
        self.clock = clock
        self._recent: defaultdict[str, deque[float]] = defaultdict(deque)
        self._admitted: set[str] = set()
        """Requests already admitted (a question answered by a command is counted once)."""
        self._lock = threading.Lock()

    # --- channels ----------------------------------------------------------------------------

    def grant(self, channel: str) -> tuple[bool, list[str] | None]:
        """May this channel run cluster commands, and on which namespaces (None: all)?

        MESHBOT_CLUSTER_CHANNELS lists channel ids, each optionally limited to namespaces:
        `C0123,C0456:payments|orders`. MESHBOT_CLUSTER_NAMESPACES limits every channel.
        """
        everywhere = self.settings.cluster_namespaces
        channels = self.settings.cluster_channels
        if channels is None:
            return True, everywhere
        for item in channels:
            channel_id, _, limited = item.partition(":")
            if channel_id != channel:
                continue
            names = [n for n in limited.split("|") if n] or None
            if names is None:
                return True, everywhere
            return True, names if everywhere is None else [n for n in names if n in everywhere]
        return False, None

    def allowed_channels(self) -> list[str]:
        return [c.partition(":")[0] for c in self.settings.cluster_channels or []]

    def channel_refusal(self, language: Language) -> Refusal:
        # Channel ids in code: the renderer escapes every text, so `<#C…>` links are not available here.
        where = ", ".join(f"`{c}`" for c in self.allowed_channels()) or msg("slack.refused.nowhere", language)
        return refusal("channel", msg("slack.refused.channel", language, channels=where), language)

    # --- who ----------------------------------------------------------------------------------

    def other_team(self, team: str | None) -> bool:
        wanted = self.settings.slack_team_id
        return bool(wanted) and team != wanted

    def within_rate(self, user: str) -> bool:
        """Count this request against the user's budget; False when the last minute already used it up."""
        now = self.clock()
        with self._lock:
            recent = self._recent[user]
            while recent and recent[0] <= now - RATE_WINDOW:
                recent.popleft()
            if len(recent) >= self.settings.rate_limit:
                return False
            recent.append(now)
            return True

    def is_operator(self, user: str) -> bool:
        operators = self.settings.operators
        if user in operators:
            return True
        groups = [o for o in operators if o.startswith("S")]
        return self.members_of is not None and any(user in self.members_of(group) for group in groups)

    def admit(self, ctx: Context) -> Refusal | None:
        """The checks every request passes, commands and questions alike: workspace and rate."""
        if self.other_team(ctx.team):
            return refusal("team", msg("authz.other_team", ctx.language), ctx.language)
        if not self.within_rate(ctx.user):
            return refusal(
                "rate", msg("authz.rate_limited", ctx.language, limit=self.settings.rate_limit), ctx.language
            )
        with self._lock:
            self._admitted.add(ctx.request_id)
        return None

    def forget(self, ctx: Context) -> None:
        """The request is answered: it will not come to `authorize` (a question answered without a command)."""
        with self._lock:
            self._admitted.discard(ctx.request_id)

    def _admit_once(self, ctx: Context) -> Refusal | None:
        with self._lock:
            if ctx.request_id in self._admitted:
                self._admitted.discard(ctx.request_id)
                return None
        refused = self.admit(ctx)
        with self._lock:
            self._admitted.discard(ctx.request_id)
        return refused

    # --- the pipeline's hook ---------------------------------------------------------------------

    def authorize(self, command: Command, args: Args, ctx: Context) -> Refusal | None:
        lang = ctx.language
        admitted = self._admit_once(ctx)
        if admitted is not None:
            return admitted
        allowed, namespaces = self.grant(ctx.channel or "")
        if (command.reads_cluster or command.uses_store) and not allowed:
            return self.channel_refusal(lang)
        if command.needs_operator(args):
            if not self.settings.operators:
                return refusal("no-operators", msg("authz.no_operators", lang, command=command.name), lang)
            if not self.is_operator(ctx.user):
                return refusal("operator", msg("authz.not_operator", lang, command=command.name), lang)
        scope = args.scope() if command.reads_cluster else []
        outside = _outside(scope, namespaces)
        if outside is not None:
            listed = ", ".join(f"`{n}`" for n in namespaces or []) or "-"
            key = "slack.refused.whole_cluster" if outside == "*" else "slack.refused.namespace"
            return refusal("namespace", msg(key, lang, namespaces=listed), lang)
        for target in args.channels():
            target_allowed, target_namespaces = self.grant(target)
            if not target_allowed:
                channels = ", ".join(f"`{c}`" for c in self.allowed_channels()) or "-"
                return refusal("target", msg("authz.target_channel", lang, channel=target, channels=channels), lang)
            if _outside(args.scope(), target_namespaces) is not None:
                listed = ", ".join(f"`{n}`" for n in target_namespaces or [])
                return refusal("target", msg("authz.target_scope", lang, channel=target, namespaces=listed), lang)
        ctx.visible = namespaces
        return None


def _outside(scope: list[str] | None, allowed: list[str] | None) -> str | None:
    """The first namespace of `scope` outside `allowed` ("*" for the whole cluster), or None when within."""
    if allowed is None:
        return None
    if scope is None:
        return "*"
    return next((n for n in scope if n not in allowed), None)
