"""Settings, read from the environment and `.env` (only `bot/__main__.py` instantiates them)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Every operator-facing knob. Names are a contract: keep them exactly."""

    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", env_prefix="", populate_by_name=True
    )

    # Vocu
    vocu_api_key: SecretStr | None = Field(default=None, alias="VOCU_API_KEY")
    vocu_base_url: str = Field(default="https://v1.vocu.ai", alias="VOCU_BASE_URL")

    # Bot
    vocubot_data_dir: Path = Field(default=Path("./data"), alias="VOCUBOT_DATA_DIR")
    vocubot_database_url: str | None = Field(default=None, alias="VOCUBOT_DATABASE_URL")
    vocubot_secret_key: SecretStr | None = Field(default=None, alias="VOCUBOT_SECRET_KEY")
    vocubot_log_level: str = Field(default="INFO", alias="VOCUBOT_LOG_LEVEL")

    # Limits (server admins can override the budgets for their server with /server)
    vocubot_max_text_chars: int = Field(default=5000, alias="VOCUBOT_MAX_TEXT_CHARS")
    vocubot_rate_per_minute: int = Field(default=12, alias="VOCUBOT_RATE_PER_MINUTE")
    vocubot_daily_user_chars: int | None = Field(default=20_000, alias="VOCUBOT_DAILY_USER_CHARS")
    vocubot_daily_chat_chars: int | None = Field(default=200_000, alias="VOCUBOT_DAILY_CHAT_CHARS")
    vocubot_cache_mb: int = Field(default=512, alias="VOCUBOT_CACHE_MB")

    # Telegram
    telegram_bot_token: SecretStr | None = Field(default=None, alias="TELEGRAM_BOT_TOKEN")
    telegram_api_base_url: str = Field(
        default="https://api.telegram.org/bot", alias="TELEGRAM_API_BASE_URL"
    )
    telegram_file_base_url: str = Field(
        default="https://api.telegram.org/file/bot", alias="TELEGRAM_FILE_BASE_URL"
    )
    telegram_webhook_url: str | None = Field(default=None, alias="TELEGRAM_WEBHOOK_URL")
    telegram_webhook_listen: str = Field(default="0.0.0.0", alias="TELEGRAM_WEBHOOK_LISTEN")
    telegram_webhook_port: int = Field(default=8443, alias="TELEGRAM_WEBHOOK_PORT")
    telegram_webhook_secret: SecretStr | None = Field(default=None, alias="TELEGRAM_WEBHOOK_SECRET")

    # Discord
    discord_bot_token: SecretStr | None = Field(default=None, alias="DISCORD_BOT_TOKEN")
    discord_api_base_url: str = Field(
        default="https://discord.com/api/v10", alias="DISCORD_API_BASE_URL"
    )
    discord_gateway_url: str | None = Field(default=None, alias="DISCORD_GATEWAY_URL")
    discord_guild_ids: str | None = Field(default=None, alias="DISCORD_GUILD_IDS")
    discord_shard_count: int | None = Field(default=None, alias="DISCORD_SHARD_COUNT")
    discord_shard_ids: str | None = Field(default=None, alias="DISCORD_SHARD_IDS")

    @property
    def database_url(self) -> str:
        """The SQLAlchemy URL: VOCUBOT_DATABASE_URL, else SQLite in the data dir."""
        if self.vocubot_database_url:
            return self.vocubot_database_url
        return f"sqlite+aiosqlite:///{self.vocubot_data_dir / 'vocu-bot.sqlite3'}"
