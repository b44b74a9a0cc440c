"""Console accounts, login throttling and the audit log.

Passwords are stored as argon2id hashes (argon2-cffi, memory-hard); a hash made with older parameters is
replaced at the next successful login. Failed logins are rows in the database, so every worker of
`yibao serve --workers N` counts the same ones; a login is refused while a username or an address has too
many failures within the window, whatever the password.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.catalogue import t
from bot.rules.loader import PolicyRegistry
from bot.store.models import AuditLog, LoginAttempt, User, utcnow
from bot.store.officials import SUFFIXES

ROLES = {role: t(f"user.role_{role}") for role in ("admin", "staff", "township")}  # role -> its name for staff
MIN_PASSWORD = 8
MAX_USERNAME = 64
MAX_FAILURES_PER_USER = 5  # within FAILURE_WINDOW
MAX_FAILURES_PER_IP = 20
FAILURE_WINDOW = dt.timedelta(minutes=15)

_hasher = PasswordHasher()


class UserError(ValueError):
    """A refused account change; the message is for the person who asked (Simplified Chinese)."""


@dataclass(frozen=True)
class Account:
    """What a request knows of the signed-in user."""

    id: int
    username: str
    role: str
    county: str | None
    township: str | None

    @property
    def role_name(self) -> str:
        return ROLES[self.role]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_bureau(self) -> bool:
        return self.role in ("admin", "staff")


def _account(user: User) -> Account:
    return Account(user.id, user.username, user.role, user.county, user.township)


def hash_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UserError(t("user.refused.short_password", least=MIN_PASSWORD))
    return _hasher.hash(password)


def find_township(registry: PolicyRegistry, township: str, county: str | None = None) -> tuple[str, str]:
    """(county, township) for a township named in a notice's target table, in full (礼义镇) or without its
    suffix (礼义); refused with the choices, county by county (only `county`'s when it is given). A name found
    in two counties needs the county."""
    if county:
        region = registry.region_name(county)
        if region is None:
            raise UserError(t("user.refused.unknown_region", region=county, known="、".join(registry.regions())))
        regions = [region]
    else:
        regions = registry.regions()
    names = [township, *(township + s for s in SUFFIXES)]
    found = [(r, n) for r in regions for n in registry.townships(r) if n in names]
    found = [f for f in found if f[1] == township] or found  # the full name before a suffixed one
    if len({r for r, _ in found}) > 1:
        raise UserError(t("user.refused.ambiguous_township", township=township,
                          regions="、".join(dict.fromkeys(r for r, _ in found))))
    if found:
        return found[0]
    known = "\n".join(t("user.refused.region_townships", region=r,
                        names="、".join(registry.townships(r)) or t("user.refused.no_table")) for r in regions)
    raise UserError(t("user.refused.unknown_township", township=township, known=known))


async def add_user(session: AsyncSession, registry: PolicyRegistry, username: str, role: str, password: str,
                   *, township: str | None = None, county: str | None = None, actor: str = "cli") -> Account:
    username = username.strip()
    if not username or len(username) > MAX_USERNAME or any(c.isspace() for c in username):
        raise UserError(t("user.refused.bad_username", most=MAX_USERNAME))
    if role not in ROLES:
        raise UserError(t("user.refused.bad_role", roles="、".join(ROLES)))
    if role == "township":
        if not township:
            raise UserError(t("user.refused.needs_township"))
        county, township = find_township(registry, township, county)
    elif township:
        raise UserError(t("user.refused.township_only"))
    else:
        county = None
    if await session.scalar(select(User.id).where(User.username == username)) is not None:
        raise UserError(t("user.refused.exists", username=username))
    user = User(username=username, role=role, county=county, township=township,
                password_hash=hash_password(password))
    session.add(user)
    await session.flush()
    await audit(session, actor, "user.add", {"user": username, "role": role, "township": township})
    return _account(user)


async def list_users(session: AsyncSession) -> list[User]:
    return list((await session.scalars(select(User).order_by(User.role, User.username))).all())


async def _user(session: AsyncSession, username: str) -> User:
    user = await session.scalar(select(User).where(User.username == username))
    if user is None:
        raise UserError(t("user.refused.no_such", username=username))
    return user


async def set_disabled(session: AsyncSession, username: str, disabled: bool, *, actor: str = "cli") -> None:
    user = await _user(session, username)
    user.disabled = disabled
    # A disabled account's sessions end at their next request: the session check reads `disabled`.
    await audit(session, actor, "user.disable" if disabled else "user.enable", {"user": username})


async def set_password(session: AsyncSession, username: str, password: str, *, actor: str = "cli") -> None:
    user = await _user(session, username)
    user.password_hash = hash_password(password)
    user.password_changed_at = utcnow()  # sessions from before the change end
    await audit(session, actor, "user.passwd", {"user": username})


async def end_sessions(session: AsyncSession, user_id: int) -> None:
    """Logged out: every console session of the account issued until now ends (the cookie is not kept by
    the server, so a copy of it would otherwise stay good until it expires)."""
    user = await session.get(User, user_id)
    if user is not None:
        user.sessions_ended_at = utcnow()


async def session_account(session: AsyncSession, user_id: int, issued_at: dt.datetime) -> Account | None:
    """The account a console session belongs to, or None when it is gone, disabled, or its password
    changed or it logged out after the session began."""
    user = await session.get(User, user_id)
    if user is None or user.disabled or user.password_changed_at > issued_at:
        return None
    if user.sessions_ended_at is not None and user.sessions_ended_at >= issued_at:
        return None
    return _account(user)


async def throttled(session: AsyncSession, username: str, ip: str, now: dt.datetime | None = None) -> bool:
    """Whether logins for `username` or from `ip` are refused for now (too many recent failures)."""
    since = (now or utcnow()) - FAILURE_WINDOW
    by_user = await session.scalar(
        select(func.count()).where(LoginAttempt.username == username, LoginAttempt.created_at > since))
    if by_user >= MAX_FAILURES_PER_USER:
        return True
    by_ip = await session.scalar(select(func.count()).where(LoginAttempt.ip == ip, LoginAttempt.created_at > since))
    return by_ip >= MAX_FAILURES_PER_IP


async def authenticate(session: AsyncSession, username: str, password: str, ip: str) -> Account | None:
    """The account for a correct username and password of an enabled user; a failure is recorded (the
    caller checks `throttled` first and commits either way)."""
    user = await session.scalar(select(User).where(User.username == username))
    ok = False
    if user is not None and not user.disabled:
        try:
            ok = _hasher.verify(user.password_hash, password)
        except (VerificationError, InvalidHashError):
            ok = False
    else:
        _hasher.hash(password)  # the same work for an unknown name: no timing difference to probe
    if not ok:
        # Failures older than the window no longer count: drop them, so the table holds one window's failures.
        await session.execute(delete(LoginAttempt).where(LoginAttempt.created_at <= utcnow() - FAILURE_WINDOW))
        session.add(LoginAttempt(username=username[:64], ip=ip[:64]))
        await audit(session, username[:64], "login.failed", {"ip": ip})
        return None
    assert user is not None
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    await session.execute(delete(LoginAttempt).where(LoginAttempt.username == username))
    await audit(session, username, "login", {"ip": ip})
    return _account(user)


async def audit(session: AsyncSession, actor: str, action: str, detail: dict[str, Any]) -> None:
    """One audit-log row, in the caller's transaction: who, what, when."""
    session.add(AuditLog(actor=actor, action=action, detail=detail))


async def recent_audit(session: AsyncSession, *, limit: int = 200, offset: int = 0,
                       action: str | None = None) -> list[AuditLog]:
    query = select(AuditLog).order_by(AuditLog.id.desc()).limit(limit).offset(offset)
    if action:
        query = query.where(AuditLog.action.startswith(action))
    return list((await session.scalars(query)).all())


