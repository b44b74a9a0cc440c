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
WECHAT_MODES = ("plain", "compatible", "safe")  # 明文, 兼容, 安全: as chosen in WeChat's 服务器配置


class ConfigError(ValueError):
    """A malformed setting: the variable, what is wrong with it (`problem`, a key of the [config] section of
    templates/cli/zh.toml, where the CLI finds the Chinese sentence) and the details that sentence names."""

    def __init__(self, name: str, problem: str, **details: object):
        self.name, self.problem, self.details = name, problem, details
        shown = ", ".join(f"{k}={v!r}" for k, v in details.items())
        super().__init__(f"{name}: {problem}" + (f" ({shown})" if shown else ""))


# -- the clock ----------------------------------------------------------------------------------------------
# Every "today" and "now" of the answers, the scheduler, the console and the commands comes from here. It is the
# wall clock in Asia/Shanghai, unless YIBAO_TODAY moves it to another day (a demo in a past collection season):
# then the clock starts on that day (at that time when one is given) and runs on from there.

TODAY_SETTING = "YIBAO_TODAY"
_NO_SHIFT = dt.timedelta(0)
_shift: tuple[str, dt.timedelta] = ("", _NO_SHIFT)  # (YIBAO_TODAY it was computed for, offset from the wall)


def parse_today(raw: str) -> dt.date | dt.datetime:
    """YIBAO_TODAY: YYYY-MM-DD, or YYYY-MM-DDTHH:MM[:SS] (Asia/Shanghai)."""
    try:
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw):
            return dt.date.fromisoformat(raw)
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2})?", raw):
            return dt.datetime.fromisoformat(raw).replace(tzinfo=TZ)
    except ValueError:
        pass
    raise ConfigError(TODAY_SETTING, "today", raw=raw)


def _wall() -> dt.datetime:
    return dt.datetime.now(TZ)


def clock_shift() -> dt.timedelta:
    """How far the clock is from the wall clock: zero unless YIBAO_TODAY is set (or the demo set the clock)."""
    global _shift
    raw = os.environ.get(TODAY_SETTING, "")
    if raw != _shift[0]:
        if not raw:
            _shift = (raw, _NO_SHIFT)
        else:
            at = parse_today(raw)
            if isinstance(at, dt.datetime):
                _shift = (raw, at - _wall())
            else:  # the same time of day, on that date
                _shift = (raw, dt.timedelta(days=(at - _wall().date()).days))
    return _shift[1]


def set_clock(at: dt.datetime) -> None:
    """Make the clock read `at` now and run on from there (the demo does this; nothing in production)."""
    global _shift
    _shift = (os.environ.get(TODAY_SETTING, ""), at - _wall())


def now() -> dt.datetime:
    """Now in Asia/Shanghai, on the clock (see above)."""
    return _wall() + clock_shift()


def today() -> dt.date:
    """Today in Asia/Shanghai (the machines run in UTC), on the clock."""
    return now().date()


def wall_time(at: dt.datetime) -> dt.datetime:
    """When the wall clock reaches the moment the clock calls `at` (what APScheduler must wait for)."""
    return at - clock_shift()


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(name, "whole_number", raw=raw) from None
    if value < minimum:
        raise ConfigError(name, "at_least", raw=raw, minimum=minimum)
    return value


def _float(env: Mapping[str, str], name: str, default: float, minimum: float, maximum: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(name, "seconds", raw=raw) from None
    if not minimum <= value <= maximum:
        raise ConfigError(name, "between", raw=raw, minimum=minimum, maximum=maximum)
    return value


def _time(env: Mapping[str, str], name: str, default: str) -> dt.time:
    raw = env.get(name) or default
    m = re.fullmatch(r"(\d{1,2}):(\d{2})", raw)
    if not m or int(m[1]) > 23 or int(m[2]) > 59:
        raise ConfigError(name, "time", raw=raw)
    return dt.time(int(m[1]), int(m[2]))


def _days(env: Mapping[str, str], name: str, default: str) -> tuple[int, ...]:
    raw = env.get(name) or default
    try:
        days = tuple(sorted({int(x) for x in raw.split(",") if x.strip()}, reverse=True))
    except ValueError:
        raise ConfigError(name, "days", raw=raw) from None
    if not days or min(days) < 0:
        raise ConfigError(name, "days", raw=raw)
    return days


def _flag(env: Mapping[str, str], name: str) -> bool:
    raw = (env.get(name) or "0").strip().lower()
    if raw not in ("0", "1", "true", "false", "yes", "no"):
        raise ConfigError(f"{name}={raw!r}: expected 1 or 0")
    return raw in ("1", "true", "yes")


def _fernet_key(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name) or None
    if raw is not None and not re.fullmatch(r"[A-Za-z0-9_\-]{43}=", raw):
        raise ConfigError(f"{name}: expected a Fernet key (44 characters of URL-safe base64), e.g. from `python -c "
                          "'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`")
    return raw


def _choice(env: Mapping[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = env.get(name) or default
    if raw not in choices:
        raise ConfigError(name, "choice", raw=raw, choices=" / ".join(choices))
    return raw


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    raw = env.get(name) or default
    if not re.match(r"https?://[^/\s]+", raw):
        raise ConfigError(name, "http_url", raw=raw)
    return raw.rstrip("/")


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
    # the clock's day when not the real one (YIBAO_TODAY, for demos; see now() above)
    today: dt.date | dt.datetime | None = None
    # the bureau console (bot/console/): the Fernet key of its session cookies (None: one generated and kept
    # under var/), and whether it is reached over https (then cookies are Secure and X-Forwarded-Proto counts)
    console_secret: str | None = None
    console_https: bool = False
    console_session_idle_s: int = 30 * 60
    # binding limits (issue 12): failed ID checks a day per follower and per resident being named, and how
    # many followers may be bound to one resident (family members helping the elderly)
    bind_max_fails_per_follower: int = 5
    bind_max_fails_per_resident: int = 8
    bind_max_followers_per_resident: int = 3
    # the edge (issue 12; bot/wechat/edge.py): WeChat's message mode and the limits on connections
    wechat_mode: str = ""  # plain | compatible | safe; "" = safe with an AES key, else plain
    read_timeout_s: float = 5.0  # a request's headers and body arrive within this of its first byte
    idle_timeout_s: float = 30.0  # a connection without a request in progress is closed after this
    max_connections: int = 0  # concurrent connections per process; 0 = just below the descriptor limit
    # reaching people (issue 15; README "Reaching people")
    account_type: str = "service"  # service: 4 mass messages a month per follower; subscription: 1 a day
    mass_monthly_limit: int = 4
    broadcast_approval: bool = False  # a second staff member approves each broadcast before it is sent
    public_url: str = "http://127.0.0.1:8080"  # where phones reach this server (township page links): serve's port
    link_key: str = "yibao-demo-link-key"  # HMAC key of township page links and QR scenes (demo default)
    page_link_days: int = 7  # a digest's township page link works this long
    qr_expire_days: int = 30  # officials' QR codes (WeChat's temporary codes live at most 30 days)
    reminder_channel: str = "template"  # template | subscribe (subscribe/bizsend, long-term subscriptions)
    subscribe_template_id: str = "yibao-payment-subscribe"
    extra: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        mode = self.wechat_mode or ("safe" if self.wechat_aes_key else "plain")
        if mode not in WECHAT_MODES:
            raise ConfigError("YIBAO_WECHAT_MODE", "wechat_mode", raw=mode)
        if mode != "plain" and not self.wechat_aes_key:
            raise ConfigError("YIBAO_WECHAT_MODE", "mode_needs_key", raw=mode)
        object.__setattr__(self, "wechat_mode", mode)

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
            raise ConfigError("YIBAO_WECHAT_AES_KEY", "aes_key", length=len(aes))
        base = env.get("YIBAO_WECHAT_API_BASE") or REAL_WECHAT_API
        if not re.match(r"https?://[^/\s]+", base):
            raise ConfigError("YIBAO_WECHAT_API_BASE", "http_url", raw=base)
        db = env.get("YIBAO_DATABASE_URL") or cls.database_url
        if not re.match(r"(sqlite|postgres(ql)?)(\+\w+)?://", db):
            raise ConfigError("YIBAO_DATABASE_URL", "database_url", raw=db)
        dirs = tuple(Path(p) for p in (env.get("YIBAO_POLICY_DIRS") or "").split(os.pathsep) if p)
        for d in dirs:
            if not d.is_dir():
                raise ConfigError("YIBAO_POLICY_DIRS", "not_a_folder", path=str(d))
        token = env.get("YIBAO_WECHAT_TOKEN", cls.wechat_token)
        if not token:
            raise ConfigError("YIBAO_WECHAT_TOKEN", "empty")
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
            today=parse_today(env[TODAY_SETTING]) if env.get(TODAY_SETTING) else None,
            console_secret=_fernet_key(env, "YIBAO_CONSOLE_SECRET"),
            console_https=_flag(env, "YIBAO_CONSOLE_HTTPS"),
            console_session_idle_s=_int(env, "YIBAO_CONSOLE_SESSION_IDLE_S", cls.console_session_idle_s, 60),
            bind_max_fails_per_follower=_int(env, "YIBAO_BIND_MAX_FAILS_PER_FOLLOWER",
                                             cls.bind_max_fails_per_follower, 1),
            bind_max_fails_per_resident=_int(env, "YIBAO_BIND_MAX_FAILS_PER_RESIDENT",
                                             cls.bind_max_fails_per_resident, 1),
            bind_max_followers_per_resident=_int(env, "YIBAO_BIND_MAX_FOLLOWERS_PER_RESIDENT",
                                                 cls.bind_max_followers_per_resident, 1),
            wechat_mode=(env.get("YIBAO_WECHAT_MODE") or "").strip().lower(),
            read_timeout_s=_float(env, "YIBAO_READ_TIMEOUT_S", cls.read_timeout_s, 0.1, 300),
            idle_timeout_s=_float(env, "YIBAO_IDLE_TIMEOUT_S", cls.idle_timeout_s, 0.1, 3600),
            max_connections=_int(env, "YIBAO_MAX_CONNECTIONS", cls.max_connections),
            account_type=_choice(env, "YIBAO_WECHAT_ACCOUNT_TYPE", cls.account_type, ("service", "subscription")),
            mass_monthly_limit=_int(env, "YIBAO_MASS_MONTHLY_LIMIT", cls.mass_monthly_limit, 1),
            broadcast_approval=_choice(env, "YIBAO_BROADCAST_APPROVAL", "0", ("0", "1")) == "1",
            public_url=_url(env, "YIBAO_PUBLIC_URL", cls.public_url),
            link_key=env.get("YIBAO_LINK_KEY") or cls.link_key,
            page_link_days=_int(env, "YIBAO_PAGE_LINK_DAYS", cls.page_link_days, 1),
            qr_expire_days=min(_int(env, "YIBAO_QR_EXPIRE_DAYS", cls.qr_expire_days, 1), 30),
            reminder_channel=_choice(env, "YIBAO_REMINDER_CHANNEL", cls.reminder_channel, ("template", "subscribe")),
            subscribe_template_id=env.get("YIBAO_SUBSCRIBE_TEMPLATE_ID") or cls.subscribe_template_id,
        )
