"""Settings from the environment (and optionally a YAML file), validated by pydantic-settings."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, ValidationError, field_validator, model_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "MESHBOT_CONFIG_FILE"
OPERATOR_ID = re.compile(r"^[UWS][A-Z0-9]{2,}$")
DURATION = re.compile(r"^(\d+(?:\.\d+)?)\s*([smhd])?$", re.I)
DURATION_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def default_database_url() -> str:
    """SQLite in the user's data directory (~/.local/share/meshbot on Linux), never the working directory.

    The container image and the chart set MESHBOT_DATABASE_URL (a volume, or PostgreSQL) instead.
    """
    from platformdirs import user_data_path

    return f"sqlite:///{user_data_path('meshbot', appauthor=False) / 'meshbot.sqlite'}"


class SettingsError(Exception):
    """Settings are missing or malformed; the message is one clear line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="MESHBOT_SLACK_API_URL")
    database_url: str = Field(default_factory=default_database_url, validation_alias="MESHBOT_DATABASE_URL")
    command: str = Field(default="/mesh", validation_alias="MESHBOT_COMMAND")
    kubeconfig: Path | None = Field(default=None, validation_alias="MESHBOT_KUBECONFIG")
    context: str | None = Field(default=None, validation_alias="MESHBOT_CONTEXT")
    from_file: Path | None = Field(default=None, validation_alias="MESHBOT_FROM_FILE")
    """A dump file or folder, or `-` for stdin."""
    # NoDecode: the environment gives "name=context,…" (comma-separated), not JSON; `_pairs` splits it.
    clusters: Annotated[dict[str, str] | None, NoDecode] = Field(default=None, validation_alias="MESHBOT_CLUSTERS")
    """Several clusters by name, each a kubeconfig context (`prod=prod-eu,stage=staging`; a bare `ctx` names
    itself); the first is the default. `--context` given more than once sets it too."""
    channel_clusters: Annotated[dict[str, str] | None, NoDecode] = Field(
        default=None, validation_alias="MESHBOT_CHANNEL_CLUSTERS"
    )
    """Slack channels bound to a cluster of MESHBOT_CLUSTERS (`C0123:prod,C0456:stage`); others get the first."""
    assume_absent: Annotated[list[str] | None, NoDecode] = Field(default=None, validation_alias="MESHBOT_ASSUME_ABSENT")
    """Kinds the user says have no objects (`EnvoyFilter,WasmPlugin`): their absence makes no verdict unknown."""
    root_namespace: str = Field(default="istio-system", validation_alias="MESHBOT_ROOT_NAMESPACE")
    language: Literal["en", "ko"] = Field(default="en", validation_alias="MESHBOT_LANGUAGE")
    # NoDecode: the environment gives "C1,C2" (comma-separated), not JSON; `_comma_list` splits it.
    cluster_channels: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias="MESHBOT_CLUSTER_CHANNELS"
    )
    """Channel ids allowed to run cluster commands, each optionally limited to namespaces
    (`C0123,C0456:payments|orders`); None allows every channel."""
    cluster_namespaces: Annotated[list[str] | None, NoDecode] = Field(
        default=None, validation_alias="MESHBOT_CLUSTER_NAMESPACES"
    )
    """Namespaces that cluster commands may name from Slack; None allows all."""
    host: str = Field(default="0.0.0.0", validation_alias="MESHBOT_HOST")  # noqa: S104  (a pod listens on all)
    port: int = Field(default=3000, ge=0, le=65535, validation_alias="MESHBOT_PORT")
    """`serve` listens here: /slack/events (HTTP mode), /healthz, /readyz, /metrics."""
    snapshot_seconds: float = Field(default=30.0, ge=0, validation_alias="MESHBOT_SNAPSHOT_SECONDS")
    """How long Slack commands share one cluster read (a burst of commands reads the cluster once)."""
    kernel_min: str = Field(default="5.8", validation_alias="MESHBOT_KERNEL_MIN")
    conversation_ttl: float = Field(default=7 * 86400, gt=0, validation_alias="MESHBOT_CONVERSATION_TTL")
    """Seconds a thread's or DM's earlier turns are kept for follow-up questions (default 7 days)."""
    request_timeout: float = Field(default=10.0, gt=0, validation_alias="MESHBOT_REQUEST_TIMEOUT")
    # Digests, migration threads and the scheduler (issue 5).
    leader_election: bool = Field(default=False, validation_alias="MESHBOT_LEADER_ELECTION")
    """Elect one leader with a coordination.k8s.io Lease; only the leader runs schedules."""
    lease_name: str = Field(default="meshbot-leader", validation_alias="MESHBOT_LEASE_NAME")
    lease_namespace: str = Field(default="meshbot", validation_alias="MESHBOT_LEASE_NAMESPACE")
    lease_duration: float = Field(default=15.0, gt=0, validation_alias="MESHBOT_LEASE_DURATION")
    lease_renew_every: float = Field(default=5.0, gt=0, validation_alias="MESHBOT_LEASE_RENEW_EVERY")
    identity: str | None = Field(default=None, validation_alias="MESHBOT_IDENTITY")
    """This replica's holderIdentity; defaults to the pod name (HOSTNAME) plus the process id."""
    timezone: str = Field(default="UTC", validation_alias="MESHBOT_TIMEZONE")
    migration_check_seconds: float = Field(default=900.0, gt=0, validation_alias="MESHBOT_MIGRATION_CHECK_SECONDS")
    misfire_grace_seconds: int = Field(default=300, gt=0, validation_alias="MESHBOT_MISFIRE_GRACE_SECONDS")
    # Authorization (DESIGN "Authorization (Slack)").
    operators: Annotated[list[str], NoDecode] = Field(default_factory=list, validation_alias="MESHBOT_OPERATORS")
    """Who may change state from Slack: user ids (U…, W…) and user-group ids (S…), comma-separated."""
    slack_team_id: str | None = Field(default=None, validation_alias="MESHBOT_SLACK_TEAM_ID")
    """The one workspace requests are taken from; None accepts any (a single-workspace app)."""
    min_digest_interval: float = Field(default=3600.0, ge=0, validation_alias="MESHBOT_MIN_DIGEST_INTERVAL")
    """Seconds between two runs of a digest schedule at least (`1h`, `30m`, `90s` or a number of seconds)."""
    rate_limit: int = Field(default=20, ge=1, validation_alias="MESHBOT_RATE_LIMIT")
    """Commands one Slack user may run a minute."""
    audit_retention_days: int = Field(default=90, ge=1, validation_alias="MESHBOT_AUDIT_RETENTION_DAYS")
    operator_groups_seconds: float = Field(default=60.0, ge=0, validation_alias="MESHBOT_OPERATOR_GROUPS_SECONDS")
    """How long user-group memberships (usergroups.users.list) are cached."""
    slack_retries: int = Field(default=5, ge=0, validation_alias="MESHBOT_SLACK_RETRIES")
    slack_backoff: float = Field(default=1.0, ge=0, validation_alias="MESHBOT_SLACK_BACKOFF")
    # Observed traffic (issue 13): off unless a URL is given. Names match the Helm chart's env.
    prometheus_url: str | None = Field(default=None, validation_alias="MESHBOT_PROMETHEUS_URL")
    prometheus_token_file: Path | None = Field(default=None, validation_alias="MESHBOT_PROMETHEUS_TOKEN_FILE")
    """A file holding a bearer token (a mounted Secret); read at each query, never logged."""
    prometheus_ca_file: Path | None = Field(default=None, validation_alias="MESHBOT_PROMETHEUS_CA_FILE")
    prometheus_window: str = Field(default="24h", validation_alias="MESHBOT_PROMETHEUS_WINDOW")
    """How far back observed-traffic answers look (a Prometheus duration)."""
    prometheus_timeout: float = Field(default=10.0, gt=0, validation_alias="MESHBOT_PROMETHEUS_TIMEOUT")
    """Seconds, or a duration such as 10s: one query's budget (queries run in parallel)."""

    @field_validator("command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("must look like /mesh")
        return value

    @field_validator("clusters", mode="before")
    @classmethod
    def _clusters(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.strip() for item in value.split(",") if item.strip()]
            return {
                name.strip(): (context.strip() or name.strip())
                for name, _, context in (p.partition("=") for p in pairs)
            } or None
        return value

    @field_validator("channel_clusters", mode="before")
    @classmethod
    def _channel_clusters(cls, value: object) -> object:
        if isinstance(value, str):
            pairs = [item.strip() for item in value.split(",") if item.strip()]
            bound: dict[str, str] = {}
            for pair in pairs:
                channel, sep, name = pair.partition(":")
                if not sep or not channel.strip() or not name.strip():
                    raise ValueError(f"'{pair}' should be CHANNEL:CLUSTER, e.g. C0123:prod")
                bound[channel.strip()] = name.strip()
            return bound or None
        return value

    @model_validator(mode="after")
    def _bound_clusters_exist(self) -> Settings:
        for channel, name in (self.channel_clusters or {}).items():
            known = list(self.clusters or {})
            if name not in known:
                listed = ", ".join(known) or "none: set MESHBOT_CLUSTERS"
                raise ValueError(f"channel {channel} is bound to cluster '{name}', which is not configured ({listed})")
        return self

    @field_validator("operators", mode="before")
    @classmethod
    def _operator_ids(cls, value: object) -> object:
        if isinstance(value, str):
            value = [item.strip() for item in value.split(",") if item.strip()]
        if isinstance(value, list):
            for item in value:
                if not isinstance(item, str) or not OPERATOR_ID.match(item):
                    raise ValueError(f"{item!r} is not a Slack user id (U…, W…) or user-group id (S…)")
        return value

    @field_validator("min_digest_interval", mode="before")
    @classmethod
    def _duration(cls, value: object) -> object:
        if isinstance(value, str):
            match = DURATION.match(value.strip())
            if match is None:
                raise ValueError("a duration such as 1h, 30m, 90s or a number of seconds")
            return float(match.group(1)) * DURATION_UNITS[(match.group(2) or "s").lower()]
        return value

    @field_validator("cluster_channels", "cluster_namespaces", "assume_absent", mode="before")
    @classmethod
    def _comma_list(cls, value: object) -> object:
        if isinstance(value, str):
            items = [item.strip() for item in value.split(",") if item.strip()]
            return items or None
        return value

    @field_validator("prometheus_url")
    @classmethod
    def _prometheus_url(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as http://prometheus.istio-system:9090")
        return value.rstrip("/")

    @field_validator("prometheus_window")
    @classmethod
    def _window(cls, value: str) -> str:
        from cluster.traffic.client import duration_seconds

        duration_seconds(value)  # ValueError says what a duration looks like
        return value.strip()

    @field_validator("prometheus_timeout", mode="before")
    @classmethod
    def _timeout(cls, value: object) -> object:
        if isinstance(value, str) and value.strip() and not value.strip().replace(".", "", 1).isdigit():
            from cluster.traffic.client import duration_seconds

            return duration_seconds(value)  # the chart's "10s"
        return value

    @field_validator("slack_bot_token")
    @classmethod
    def _bot_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xoxb-"):
            raise ValueError("a bot token starts with xoxb- (OAuth & Permissions > Bot User OAuth Token)")
        return value

    @field_validator("slack_app_token")
    @classmethod
    def _app_token(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith("xapp-"):
            raise ValueError("an app-level token starts with xapp- (Basic Information > App-Level Tokens)")
        return value

    @field_validator("slack_api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http(s) URL such as https://slack.com/api/")
        return value if value.endswith("/") else value + "/"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            sources.append(YamlConfigSettingsSource(settings_cls, yaml_file=config_file))
        return tuple(sources)


def load_settings(**overrides: object) -> Settings:
    """Settings with CLI flags (overrides) winning over the environment; SettingsError on bad input."""
    config_file = os.environ.get(CONFIG_FILE_ENV)
    if config_file and not Path(config_file).is_file():
        raise SettingsError(f"{CONFIG_FILE_ENV}={config_file}: no such file")
    given = {k: v for k, v in overrides.items() if v is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as exc:
        first = exc.errors()[0]
        name = str(first["loc"][0]) if first["loc"] else "settings"
        problem = str(first["msg"]).removeprefix("Value error, ")
        raise SettingsError(f"setting {name}: {problem}") from None
    except Exception as exc:  # a YAML file that does not parse
        raise SettingsError(f"settings: {exc}".splitlines()[0]) from None
