"""Every setting, read once from YIBAO_* environment variables.

A missing or malformed variable is a `ConfigError` that names the variable and what is wrong.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

TZ = ZoneInfo("Asia/Shanghai")
REAL_WECHAT_API = "https://api.weixin.qq.com"
DEFAULT_DB_PATH = Path("var") / "yibao.sqlite3"


class ConfigError(ValueError):
    pass


def today() -> dt.date:
    """Today in Asia/Shanghai (the machines run in UTC)."""
    return dt.datetime.now(TZ).date()


def now() -> dt.datetime:
    return dt.datetime.now(TZ)


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a whole number") from None
    if value < minimum:
        raise ConfigError(f"{name}={raw!r}: must be at least {minimum}")
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected a number of seconds") from None
    if not minimum <= value <= maximum:
        raise ConfigError(f"{name}={raw!r}: must be between {minimum} and {maximum}")
    return value


def _time(env: Mapping[str, str], name: str, default: str) -> dt.time:
    raw = env.get(name) or default
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ConfigError(f"{name}={raw!r}: expected HH:MM")
    return dt.time(int(m[1]), int(m[2]))


def _days(env: Mapping[str, str], name: str, default: str) -> tuple[int, ...]:
    raw = env.get(name) or default
    try:
        days = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(f"{name}={raw!r}: expected whole numbers separated by commas, e.g. 5,1") from None
    if not days or min(days) < 0:
        raise ConfigError(f"{name}={raw!r}: expected whole numbers >= 0 separated by commas")
    return days


def sync_url(url: str) -> str:
    """The synchronous URL of the same database (APScheduler's job store, Alembic)."""
    return (
        url.replace("sqlite+aiosqlite://", "sqlite://")
        .replace("postgresql+asyncpg://", "postgresql+psycopg://")
    )


def async_url(url: str) -> str:
    """Accept plain sqlite:// and postgresql:// URLs and give them their async drivers."""
    if url.startswith("sqlite://"):
        return "sqlite+aiosqlite://" + url[len("sqlite://"):]
    if url.startswith(("postgresql://", "postgres://")):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    if url.startswith("postgresql+psycopg://"):
        return "postgresql+asyncpg://" + url.split("://", 1)[1]
    return url


@dataclass(frozen=True)
class Settings:
    wechat_token: str = "yibao-dev-token"
    wechat_appid: str = "wx-yibao-demo"
    wechat_secret: str = "yibao-demo-secret"
    wechat_aes_key: str | None = None
    wechat_api_base: str = REAL_WECHAT_API
    database_url: str = f"sqlite+aiosqlite:///{DEFAULT_DB_PATH}"
    # keyed HMAC for ID numbers; the default is for demos only (`yibao serve` warns about it)
    id_hmac_key: str = "yibao-demo-hmac-key"
    policy_dirs: tuple[Path, ...] = ()
    default_region: str | None = None
    max_body_bytes: int = 256 * 1024
    timestamp_window_s: int = 300
    reply_budget_s: float = 4.5
    # reminders (issue: reminders and escalation)
    reminder_days: tuple[int, ...] = (5, 1)
    reminder_time: dt.time = dt.time(10, 0)
    digest_days: int = 3
    digest_time: dt.time = dt.time(9, 0)
    escalation_days: int = 1
    escalation_time: dt.time = dt.time(9, 0)
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(8, 0)
    send_rate_per_s: int = 50  # 0 = no limit
    daily_quota: int = 100_000
    reminder_template_id: str = "yibao-payment-status"
    digest_template_id: str = "yibao-progress-digest"
    # rendered answers to policy questions kept in memory (bot.pipeline.AnswerCache); 0 switches it off,
    # and with it the memo of understood texts
    answer_cache: int = 10_000
    extra: dict[str, str] = field(default_factory=dict)

    @property
    def sync_database_url(self) -> str:
        return sync_url(self.database_url)

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        aes = env.get("YIBAO_WECHAT_AES_KEY") or None
        if aes is not None and not re.fullmatch(r"[A-Za-z0-9]{43}", aes):
            raise ConfigError(
                f"YIBAO_WECHAT_AES_KEY: an EncodingAESKey is 43 letters and digits, got {len(aes)} characters"
            )
        base = env.get("YIBAO_WECHAT_API_BASE") or REAL_WECHAT_API
        if not re.match(r"https?://[^/\s]+", base):
            raise ConfigError(f"YIBAO_WECHAT_API_BASE={base!r}: expected an http(s):// URL")
        db = env.get("YIBAO_DATABASE_URL") or cls.database_url
        if not re.match(r"(sqlite|postgres(ql)?)(\+\w+)?://", db):
            raise ConfigError(f"YIBAO_DATABASE_URL={db!r}: expected a sqlite:// or postgresql:// URL")
        dirs = tuple(Path(p) for p in (env.get("YIBAO_POLICY_DIRS") or "").split(os.pathsep) if p)
        for d in dirs:
            if not d.is_dir():
                raise ConfigError(f"YIBAO_POLICY_DIRS: {d} is not a folder")
        token = env.get("YIBAO_WECHAT_TOKEN", cls.wechat_token)
        if not token:
            raise ConfigError("YIBAO_WECHAT_TOKEN is empty")
        return cls(
            wechat_token=token,
            wechat_appid=env.get("YIBAO_WECHAT_APPID") or cls.wechat_appid,
            wechat_secret=env.get("YIBAO_WECHAT_SECRET") or cls.wechat_secret,
            wechat_aes_key=aes,
            wechat_api_base=base.rstrip("/"),
            database_url=async_url(db),
            id_hmac_key=env.get("YIBAO_ID_HMAC_KEY") or cls.id_hmac_key,
            policy_dirs=dirs,
            default_region=env.get("YIBAO_DEFAULT_REGION") or None,
            max_body_bytes=_int(env, "YIBAO_MAX_BODY_BYTES", cls.max_body_bytes, 1024),
            timestamp_window_s=_int(env, "YIBAO_TIMESTAMP_WINDOW_S", cls.timestamp_window_s, 0),
            # WeChat gives up after 5 s: leave room for the reply to travel back
            reply_budget_s=_float(env, "YIBAO_REPLY_BUDGET_S", cls.reply_budget_s, 0.1, 4.9),
            reminder_days=_days(env, "YIBAO_REMINDER_DAYS", "5,1"),
            reminder_time=_time(env, "YIBAO_REMINDER_TIME", "10:00"),
            digest_days=_int(env, "YIBAO_DIGEST_DAYS", cls.digest_days),
            digest_time=_time(env, "YIBAO_DIGEST_TIME", "09:00"),
            escalation_days=_int(env, "YIBAO_ESCALATION_DAYS", cls.escalation_days),
            escalation_time=_time(env, "YIBAO_ESCALATION_TIME", "09:00"),
            quiet_start=_time(env, "YIBAO_QUIET_START", "21:00"),
            quiet_end=_time(env, "YIBAO_QUIET_END", "08:00"),
            send_rate_per_s=_int(env, "YIBAO_SEND_RATE", cls.send_rate_per_s),
            daily_quota=_int(env, "YIBAO_DAILY_QUOTA", cls.daily_quota),
            reminder_template_id=env.get("YIBAO_REMINDER_TEMPLATE_ID") or cls.reminder_template_id,
            digest_template_id=env.get("YIBAO_DIGEST_TEMPLATE_ID") or cls.digest_template_id,
            answer_cache=_int(env, "YIBAO_ANSWER_CACHE", cls.answer_cache),
        )
