"""Settings from the environment (and optionally a YAML file), validated by pydantic-settings."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    YamlConfigSettingsSource,
)

CONFIG_FILE_ENV = "MESHBOT_CONFIG_FILE"
DEFAULT_DATABASE = "sqlite:///meshbot.sqlite"


class SettingsError(Exception):
    """Settings are missing or malformed; the message is one clear line."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore", populate_by_name=True)

    slack_bot_token: str | None = Field(default=None, validation_alias="SLACK_BOT_TOKEN")
    slack_app_token: str | None = Field(default=None, validation_alias="SLACK_APP_TOKEN")
    slack_signing_secret: str | None = Field(default=None, validation_alias="SLACK_SIGNING_SECRET")
    slack_api_url: str = Field(default="https://slack.com/api/", validation_alias="MESHBOT_SLACK_API_URL")
    database_url: str = Field(default=DEFAULT_DATABASE, validation_alias="MESHBOT_DATABASE_URL")
    command: str = Field(default="/mesh", validation_alias="MESHBOT_COMMAND")
    kubeconfig: Path | None = Field(default=None, validation_alias="MESHBOT_KUBECONFIG")
    context: str | None = Field(default=None, validation_alias="MESHBOT_CONTEXT")
    from_file: Path | None = Field(default=None, validation_alias="MESHBOT_FROM_FILE")
    root_namespace: str = Field(default="istio-system", validation_alias="MESHBOT_ROOT_NAMESPACE")
    language: Literal["en", "ko"] = Field(default="en", validation_alias="MESHBOT_LANGUAGE")
    cluster_channels: list[str] | None = Field(default=None, validation_alias="MESHBOT_CLUSTER_CHANNELS")
    """Channel ids allowed to run cluster commands; None allows every channel."""
    cluster_namespaces: list[str] | None = Field(default=None, validation_alias="MESHBOT_CLUSTER_NAMESPACES")
    """Namespaces that cluster commands may name from Slack; None allows all."""
    kernel_min: str = Field(default="5.8", validation_alias="MESHBOT_KERNEL_MIN")
    request_timeout: float = Field(default=10.0, gt=0, validation_alias="MESHBOT_REQUEST_TIMEOUT")

    @field_validator("command")
    @classmethod
    def _slash(cls, value: str) -> str:
        if not value.startswith("/") or " " in value:
            raise ValueError("must look like /mesh")
        return value

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
        raise SettingsError(f"setting {name}: {first['msg']}") from None
    except Exception as exc:  # a YAML file that does not parse
        raise SettingsError(f"settings: {exc}".splitlines()[0]) from None
