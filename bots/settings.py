"""Deployment settings: environment variables with the STVS_ prefix, or a .env file."""

from __future__ import annotations

import os
import re
from decimal import Decimal
from pathlib import Path
from typing import Literal

from cryptography.fernet import Fernet
from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.domain.codes import Channel
from core.policy import Policy
from scheduler.dispatcher import Pace


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="STVS_", env_file=".env", extra="ignore")

    data_dir: Path = Path("data")
    database_url: str = ""  # default: a SQLite file in data_dir
    # Fernet keys (comma-separated, newest first) for phone and ID numbers at rest; default: a key file in data_dir.
    data_key: str = ""
    timezone: str = "Asia/Shanghai"
    language: str = "zh_CN"
    guardian_consent_age: int = Field(default=14, ge=14, le=18)
    default_checkin_radius_m: int = Field(default=500, ge=10, le=50_000)
    checkin_opens_before_min: int = Field(default=60, ge=0, le=24 * 60)
    checkout_grace_min: int = Field(default=60, ge=0, le=24 * 60)
    minimum_presence_share: float = Field(default=0.6, ge=0, le=1)
    checkin_code_period_s: int = Field(default=300, ge=30, le=3600)
    location_retention_days: int = Field(default=30, ge=1, le=365)
    makeup_within_days: int = Field(default=30, ge=1, le=365)
    star_thresholds: str = "100,300,600,1000,1500"
    low_turnout_alert_h: int = Field(default=48, ge=1, le=14 * 24)
    reminder_day_before_h: int = Field(default=24, ge=1, le=7 * 24)
    reminder_hours_before: int = Field(default=2, ge=1, le=7 * 24)
    star_validity_days: int = Field(default=365, ge=30, le=5 * 365)
    complaint_response_h: int = Field(default=72, ge=1, le=30 * 24)
    certificate_issuer: str = "科技志愿服务平台"

    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8080, ge=1, le=65535)
    public_url: str = ""

    # Operations: logs for a terminal (text) or one JSON object a line (json, for deployments), and
    # how long a stop (SIGTERM, SIGINT) waits for the turns in flight and the notices being sent.
    log_format: Literal["text", "json"] = "text"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    shutdown_timeout_s: float = Field(default=8, ge=0, le=300)

    telegram_token: str = ""
    telegram_webhook_secret: str = ""
    telegram_api_base: str = ""  # a local Bot API server, or the fake one in tests
    # Telegram's flood limits: about 30 messages a second overall, one a second to one chat.
    telegram_per_second: float = Field(default=30, gt=0, le=1000)
    telegram_chat_interval_s: float = Field(default=1.0, ge=0, le=60)
    telegram_bot_username: str = ""  # for deep links and QR codes; asked of getMe at start-up when empty

    wechat_token: str = ""
    wechat_app_id: str = ""
    wechat_app_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = ""  # default https://api.weixin.qq.com/cgi-bin/; the fake one in tests
    # Notices outside the user's customer-service window go out as this template message; its data
    # fields are filled from the notice: name=title|text|time|hint, comma-separated.
    wechat_template_notice: str = ""
    wechat_per_second: float = Field(default=50, gt=0, le=1000)
    wechat_template_fields: str = "first=title,keyword1=text,keyword2=time,remark=hint"

    @field_validator("database_url")
    @classmethod
    def _known_driver(cls, value: str) -> str:
        if value and not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("use sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db")
        return value

    @field_validator("data_key")
    @classmethod
    def _fernet_keys(cls, value: str) -> str:
        """Checked before anything runs: a bad key would otherwise surface at the first personal datum."""
        keys = [k.strip() for k in value.split(",") if k.strip()]
        if value and not keys:
            raise ValueError("use Fernet keys, comma-separated, newest first")
        for key in keys:
            Fernet(key.encode())  # ValueError: not a Fernet key
        return value

    @field_validator("star_thresholds")
    @classmethod
    def _thresholds(cls, value: str) -> str:
        numbers = [int(x) for x in value.split(",") if x.strip().isdigit()]
        if not numbers or numbers != sorted(set(numbers)) or len(numbers) != len(value.split(",")):
            raise ValueError("use rising whole hours, comma-separated (100,300,600,1000,1500)")
        return value

    @field_validator("wechat_template_fields")
    @classmethod
    def _template_fields(cls, value: str) -> str:
        field = r"\s*[A-Za-z][A-Za-z0-9_]{0,31}\s*=\s*(title|text|time|hint)\s*"
        if not re.fullmatch(rf"{field}(,{field})*", value):
            raise ValueError("use name=title|text|time|hint, comma-separated (first=title,keyword1=text)")
        return value

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{(self.data_dir / 'stvs.sqlite3').resolve()}"

    def policy(self) -> Policy:
        return Policy(
            guardian_consent_age=self.guardian_consent_age,
            default_checkin_radius_m=self.default_checkin_radius_m,
            default_timezone=self.timezone,
            checkin_opens_before_min=self.checkin_opens_before_min,
            checkout_grace_min=self.checkout_grace_min,
            minimum_presence_share=Decimal(str(self.minimum_presence_share)),
            checkin_code_period_s=self.checkin_code_period_s,
            location_retention_days=self.location_retention_days,
            makeup_within_days=self.makeup_within_days,
            star_thresholds=tuple(int(x) for x in self.star_thresholds.split(",") if x.strip()),
            star_validity_days=self.star_validity_days,
            reminder_day_before_h=self.reminder_day_before_h,
            reminder_hours_before=self.reminder_hours_before,
            low_turnout_alert_h=self.low_turnout_alert_h,
            complaint_response_h=self.complaint_response_h,
            public_url=(self.public_url or f"http://{self.http_host}:{self.http_port}").rstrip("/"),
            certificate_issuer=self.certificate_issuer,
        )

    def paces(self) -> dict[Channel, Pace]:
        """The outbox dispatcher's sending rates, within each platform's flood limits."""
        return {
            Channel.TELEGRAM: Pace(self.telegram_per_second, self.telegram_chat_interval_s),
            Channel.WECHAT: Pace(self.wechat_per_second, 0),
        }

    def data_keys(self) -> list[str]:
        """The configured keys, or a key generated once into data_dir (readable by the owner only)."""
        if self.data_key:
            return [k.strip() for k in self.data_key.split(",") if k.strip()]
        path = self.data_dir / "data.key"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(Fernet.generate_key().decode())
        return [path.read_text().strip()]
