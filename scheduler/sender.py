"""The outbox sender: claims due rows under a lease, sends them within WeChat's rules, records every attempt.

Claiming. A sender moves due rows from `pending` to `sending` in one statement, incrementing `attempts` (the
claim token) and setting `not_before` to the end of its lease: `FOR UPDATE SKIP LOCKED` on PostgreSQL, so
concurrent senders never take the same row; a plain conditional UPDATE on SQLite, which has one writer. A
result is written only where the row is still `sending` with the same `attempts`, so a sender that lost its
claim cannot overwrite the row. Rows left `sending` by a sender that died are "in doubt": once their lease has
passed they are put back to `pending` and sent again (docs/reminders.md explains the one narrow window in which
WeChat may then see a message twice).

Sending. Results are committed in small groups right after their calls (a commit whenever the previous one is
done), which keeps the in-doubt window short without a transaction per message. For each row, in order:
past `not_after` -> dropped (never sent late); a resident in quiet hours -> deferred to their end, or dropped
if that passes the cutoff; a resident who has paid since planning -> skipped; an unsubscribed or unreachable
follower -> skipped; inside the follower's 48-hour window with sends left -> a customer-service text, falling
back to the template message on 45015/45047; otherwise a template message within the daily quota. A kind
with no template (a binding notice) waits, an hour at a time until `not_after`, for the window to open. 43004/43101
mark the follower unreachable and fail the row; -1, HTTP 5xx, 45009, a connection that could not be made and
token errors are retried later with exponential backoff; any other error fails the row. A call without an
answer (a timeout, a connection dropped after the request went out) is in doubt: WeChat may have delivered it,
so a customer-service text is not sent again (`in_doubt`), and a template message is sent again with the same
client_msg_id only within TEMPLATE_DEDUPE of its first unanswered call. Every WeChat call is one message_log row
(intent `<kind>:<outcome>`), and the row keeps `attempts` and `last_error`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot import config
from bot.config import Settings
from bot.rules.loader import PolicyRegistry
from bot.store.binding_limits import NOTICE_KIND
from bot.store.models import Follower, MessageLog, OutboxMessage, Payment, ResidentCategory, UtcDateTime
from bot.wechat.client import WeChatClient
from bot.wechat.errors import (
    TOKEN_ERRORS,
    InDoubtError,
    NotFollowingError,
    OutsideWindowError,
    UserRefusedError,
    WeChatAPIError,
    WindowCountExceededError,
)
from scheduler.digests import page_link
from scheduler.limits import DailyQuota, TokenBucket, quiet_until, start_of_day
from scheduler.messages import message_data, render_fields, render_text
from scheduler.timetable import RESIDENT_KINDS

log = logging.getLogger("yibao.scheduler.sender")

OUT = OutboxMessage.__table__
F = Follower.__table__
SERVICE_WINDOW = dt.timedelta(hours=48)
WINDOW_SENDS = 5  # customer-service messages allowed per user message
# WeChat answers a repeated template send (same openid and client_msg_id) without delivering it again for about
# 10 minutes; a template send in doubt is repeated only within half of that from its first unanswered call.
TEMPLATE_DEDUPE = dt.timedelta(minutes=5)
# Kinds with no WeChat template: sent only as a customer-service text, waiting (until `not_after`) for the
# follower's window to open. A binding notice (bot/store/binding_limits.py) is one.
TEXT_ONLY_KINDS = frozenset({NOTICE_KIND})
TEXT_ONLY_WAIT = dt.timedelta(hours=1)
CLAIMED = [OUT.c[name] for name in ("id", "key", "kind", "openid", "resident_id", "insurance_year", "cutoff", "stage",
                                     "payload", "attempts", "not_after", "in_doubt_at")]
Clock = Callable[[], dt.datetime]


@dataclass(frozen=True)
class SenderOptions:
    batch: int = 500  # rows per claim
    concurrency: int = 32  # WeChat calls in flight
    # Rows sent (or being sent) whose result is not committed yet: what a crash could leave in doubt.
    # Workers wait rather than run further ahead of the writer. None: twice `concurrency`.
    max_unrecorded: int | None = None
    lease_s: float = 120.0  # a claim not finished by then is in doubt and may be taken over
    call_timeout_s: float = 10.0  # HTTP timeout of one call: well inside the lease
    max_attempts: int = 6  # WeChat calls per row before it fails
    backoff_s: float = 30.0  # first retry delay, doubling
    max_backoff_s: float = 1800.0
    idle_s: float = 5.0  # how often an idle sender looks for due rows


@dataclass
class FollowerState:
    subscribed: bool = True
    unreachable: bool = False
    last_message_at: dt.datetime | None = None
    window_sends: int = 0

    def in_window(self, now: dt.datetime) -> bool:
        return (self.last_message_at is not None and now - self.last_message_at < SERVICE_WINDOW
                and self.window_sends < WINDOW_SENDS)


@dataclass
class Claim:
    """Rows claimed together, with what the send-time checks need, loaded once for all of them."""

    rows: list[dict[str, Any]]
    claimed_at: float  # time.monotonic() of the claim
    paid: set[tuple[int, int]] = field(default_factory=set)  # (resident, year)
    categories: dict[tuple[int, int], set[str]] = field(default_factory=dict)
    followers: dict[str, FollowerState] = field(default_factory=dict)


@dataclass
class Outcome:
    row: dict[str, Any]
    status: str  # sent | failed | dropped | skipped | pending (retry, deferral, or released unsent)
    error: str | None = None
    not_before: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    msgid: str | None = None
    called: bool = False  # WeChat was called for this claim
    unreachable: bool = False
    window_sends: int = 0  # customer-service messages used
    window_closed: bool = False  # WeChat said 45015/45047
    in_doubt_at: dt.datetime | None = None  # a call got no answer: WeChat may have delivered it
    logs: list[dict[str, Any]] = field(default_factory=list)


class Sender:
    def __init__(self, sessions: async_sessionmaker, client: WeChatClient, registry: PolicyRegistry,
                 settings: Settings, *, clock: Clock = config.now, options: SenderOptions | None = None):
        self.sessions = sessions
        self.client = client
        self.registry = registry
        self.settings = settings
        self.clock = clock
        self.options = options or SenderOptions()
        self.bucket = TokenBucket(settings.send_rate_per_s)
        self.quota = DailyQuota(settings.daily_quota)
        self._wake = asyncio.Event()
        self._rendered: dict[tuple, Any] = {}

    def wake(self) -> None:
        """New rows were planned: look now instead of at the next idle poll."""
        self._wake.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Drain the outbox whenever woken or every `idle_s`, until `stop` is set."""
        while not stop.is_set():
            self._wake.clear()
            try:
                await self.drain(stop)
            except Exception:
                log.exception("outbox drain failed; retrying in %.0fs", self.options.idle_s)
            waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
            await asyncio.wait(waiters, timeout=self.options.idle_s, return_when=asyncio.FIRST_COMPLETED)
            for w in waiters:
                w.cancel()

    # -- claiming ------------------------------------------------------------------------------------

    def _is_pg(self, session: AsyncSession) -> bool:
        return session.bind.dialect.name == "postgresql"

    async def recover(self) -> int:
        """Put rows whose sender died mid-send (lease passed, still `sending`) back to `pending`."""
        now = self.clock()
        async with self.sessions.begin() as session:
            result = await session.execute(
                update(OUT)
                .where(OUT.c.status == "sending", OUT.c.not_before <= now)
                .values(status="pending", not_before=now,
                        last_error="in doubt: the sender stopped before recording the result; sending again")
            )
        if result.rowcount:
            log.warning("recovered %d in-doubt outbox rows", result.rowcount)
        return result.rowcount

    def _claim_size(self) -> int:
        size = self.options.batch
        rate = self.settings.send_rate_per_s
        if rate > 0:  # claim no more than the rate lets us send well inside the lease
            size = min(size, max(1, int(rate * self.options.lease_s / 4)))
        return size

    async def claim(self) -> Claim | None:
        now = self.clock()
        lease_end = now + dt.timedelta(seconds=self.options.lease_s)
        async with self.sessions.begin() as session:
            # Oldest due first, in the order of ix_outbox_due (status, not_before): no sort of the backlog.
            due = (
                select(OUT.c.id)
                .where(OUT.c.status == "pending", OUT.c.not_before <= now)
                .order_by(OUT.c.not_before)
                .limit(self._claim_size())
            )
            if self._is_pg(session):
                due = due.with_for_update(skip_locked=True)
            # The status test is the subquery's: on PostgreSQL its rows stay locked until we commit, and on
            # SQLite the statement runs alone under the write lock. (Repeated outside, it would make SQLite
            # scan every pending row instead of looking the ids up.)
            result = await session.execute(
                update(OUT)
                .where(OUT.c.id.in_(due.scalar_subquery()))
                .values(status="sending", attempts=OUT.c.attempts + 1, not_before=lease_end)
                .returning(*CLAIMED)
            )
            rows = sorted((dict(r) for r in result.mappings()), key=lambda r: r["id"])
        if not rows:
            return None
        claim = Claim(rows, time.monotonic())
        async with self.sessions() as session:
            await self._load_context(session, claim)
        return claim

    async def _load_context(self, session: AsyncSession, claim: Claim) -> None:
        residents = list({r["resident_id"] for r in claim.rows if r["resident_id"] is not None})
        if residents:
            paid = await session.execute(
                select(Payment.resident_id, Payment.insurance_year).where(Payment.resident_id.in_(residents))
            )
            claim.paid = {(rid, year) for rid, year in paid}
            cats = await session.execute(
                select(ResidentCategory.resident_id, ResidentCategory.insurance_year, ResidentCategory.category)
                .where(ResidentCategory.resident_id.in_(residents))
            )
            for rid, year, cat in cats:
                claim.categories.setdefault((rid, year), set()).add(cat)
        openids = list({r["openid"] for r in claim.rows})
        followers = await session.execute(
            select(F.c.openid, F.c.subscribed, F.c.unreachable, F.c.last_message_at, F.c.window_sends)
            .where(F.c.openid.in_(openids))
        )
        claim.followers = {
            openid: FollowerState(bool(sub), bool(unr), last, sends or 0)
            for openid, sub, unr, last, sends in followers
        }

    # -- one row -------------------------------------------------------------------------------------

    def _log(self, out: Outcome, channel: str, result: str, content: str) -> None:
        row = out.row
        out.logs.append({
            "openid": row["openid"], "direction": "out", "msg_type": channel,
            "content": f"[{row['key']}] {content}"[:4000], "intent": f"{row['kind']}:{result}"[:32],
            "created_at": self.clock(),
        })

    def _failure(self, out: Outcome, exc: WeChatAPIError, channel: str, now: dt.datetime) -> Outcome:
        error = f"{exc.errcode} {exc.errmsg}".strip()
        if isinstance(exc, NotFollowingError | UserRefusedError):
            self._log(out, channel, "unreachable", error)
            out.status, out.error, out.unreachable = "failed", f"unreachable: {error}", True
        elif exc.retryable or isinstance(exc, TOKEN_ERRORS):
            if out.row["attempts"] >= self.options.max_attempts:
                self._log(out, channel, "failed", error)
                out.status, out.error = "failed", f"gave up after {out.row['attempts']} attempts: {error}"
            else:
                delay = self._backoff(out.row["attempts"])
                self._log(out, channel, "retry", error)
                out.status, out.error = "pending", f"retry in {delay.total_seconds():.0f}s: {error}"
                out.not_before = now + delay
        else:
            self._log(out, channel, "failed", error)
            out.status, out.error = "failed", error
        return out

    def _backoff(self, attempts: int) -> dt.timedelta:
        return dt.timedelta(seconds=min(self.options.backoff_s * 2 ** (attempts - 1), self.options.max_backoff_s))

    def _in_doubt(self, out: Outcome, exc: InDoubtError, channel: str, now: dt.datetime) -> Outcome:
        """A call that got no answer: WeChat may have delivered the message. A customer-service text is never
        sent again (WeChat has no de-duplication for it); a template message is, with the same
        client_msg_id, only while WeChat still drops the repeat (TEMPLATE_DEDUPE from the first such call)."""
        row = out.row
        since = row["in_doubt_at"] or now
        out.in_doubt_at = since
        delay = self._backoff(row["attempts"])
        error = f"in doubt: {exc.errmsg}"
        if channel == "template" and row["attempts"] < self.options.max_attempts \
                and now + delay - since < TEMPLATE_DEDUPE:
            self._log(out, channel, "retry", error)
            out.status, out.not_before = "pending", now + delay
            out.error = f"retry in {delay.total_seconds():.0f}s with the same client_msg_id: {error}"
        else:
            self._log(out, channel, "in_doubt", error)
            out.status = "in_doubt"
            out.error = f"{error}; WeChat may have delivered it: not sent again"
        return out

    def _defer(self, out: Outcome, until: dt.datetime, reason: str) -> Outcome:
        if out.row["kind"] in RESIDENT_KINDS:
            until = quiet_until(until, self.settings.quiet_start, self.settings.quiet_end) or until
        if until >= out.row["not_after"]:
            out.status, out.error = "dropped", f"{reason}; the next chance is past the cutoff"
        else:
            out.status, out.error, out.not_before = "pending", f"deferred: {reason}", until
        return out

    async def _reset_quota(self, now: dt.datetime) -> None:
        day = now.astimezone(config.TZ).date()
        async with self.sessions() as session:
            used = (await session.execute(
                select(func.count()).select_from(OUT)
                .where(OUT.c.sent_at >= start_of_day(day), OUT.c.wechat_msgid.is_not(None))
            )).scalar_one()
        self.quota.reset(day, used)

    async def process(self, row: dict[str, Any], claim: Claim) -> Outcome:
        out = Outcome(row, "sent")
        now = self.clock()
        if now >= row["not_after"]:
            out.status, out.error = "dropped", "the cutoff has passed: never sent late"
            return out
        if row["kind"] in RESIDENT_KINDS:
            quiet_end = quiet_until(now, self.settings.quiet_start, self.settings.quiet_end)
            if quiet_end is not None:
                return self._defer(out, quiet_end, "quiet hours")
            if (row["resident_id"], row["insurance_year"]) in claim.paid:
                out.status, out.error = "skipped", "paid since planning"
                return out
        follower = claim.followers.get(row["openid"])
        if follower is not None and (not follower.subscribed or follower.unreachable):
            out.status = "skipped"
            out.error = "unreachable" if follower.unreachable else "no longer follows the account"
            return out
        if time.monotonic() - claim.claimed_at > self.options.lease_s - 2 * self.options.call_timeout_s:
            out.status, out.not_before = "pending", now  # too close to the lease's end to call WeChat safely
            return out
        categories = claim.categories.get((row["resident_id"], row["insurance_year"]), ())
        today = now.astimezone(config.TZ).date()
        link = page_link(self.settings, row["payload"], now)  # a digest's township page

        if row["kind"] in TEXT_ONLY_KINDS and not (follower is not None and follower.in_window(now)):
            return self._defer(out, now + TEXT_ONLY_WAIT, "outside the customer-service window, no template "
                               "for this kind: waiting for the follower to write")
        if follower is not None and follower.in_window(now):
            follower.window_sends += 1
            text = self._content(row, categories, today, "text", link)
            await self.bucket.acquire()
            out.called = True
            try:
                await self.client.send_text(row["openid"], text)
            except (OutsideWindowError, WindowCountExceededError) as exc:
                self._log(out, "text", "fallback", f"{exc.errcode} {exc.errmsg}")
                follower.window_sends = WINDOW_SENDS
                out.window_closed = True
                if row["kind"] in TEXT_ONLY_KINDS:
                    return self._defer(out, now + TEXT_ONLY_WAIT, f"window closed ({exc.errcode}): waiting for "
                                       "the follower to write")
            except InDoubtError as exc:
                out.window_sends += 1  # it may have used one of the window's sends
                return self._in_doubt(out, exc, "text", now)
            except WeChatAPIError as exc:
                return self._failure(out, exc, "text", now)
            else:
                self._log(out, "text", "sent", text)
                out.window_sends += 1
                out.sent_at = self.clock()
                return out

        if self.quota.needs_reset(now):
            await self._reset_quota(now)
        if not self.quota.take():
            tomorrow = start_of_day(now.astimezone(config.TZ).date() + dt.timedelta(days=1))
            return self._defer(out, tomorrow, "daily template quota used up")
        fields = self._content(row, categories, today, "template", link)
        template_id = (self.settings.reminder_template_id if row["payload"]["template"] == "reminder"
                       else self.settings.digest_template_id)
        await self.bucket.acquire()
        out.called = True
        if row["kind"] in RESIDENT_KINDS and self.settings.reminder_channel == "subscribe":
            return await self._subscribe_notice(out, fields, now)
        try:
            msgid = await self.client.send_template(row["openid"], template_id, fields, url=link,
                                                    client_msg_id=row["key"])
        except InDoubtError as exc:  # it may count against the quota: not given back
            return self._in_doubt(out, exc, "template", now)
        except WeChatAPIError as exc:
            self.quota.give_back()
            return self._failure(out, exc, "template", now)
        self._log(out, "template", "sent", " ".join(f"{k}={v}" for k, v in fields.items()))
        out.msgid, out.sent_at = str(msgid), self.clock()
        return out

    async def _subscribe_notice(self, out: Outcome, fields: dict[str, str], now: dt.datetime) -> Outcome:
        """订阅通知 (YIBAO_REMINDER_CHANNEL=subscribe): 43101 means this resident has no subscription to use,
        which fails the row without marking the follower unreachable."""
        try:
            msgid = await self.client.send_subscribe_notice(out.row["openid"], self.settings.subscribe_template_id,
                                                            fields)
        except UserRefusedError as exc:
            self.quota.give_back()
            self._log(out, "subscribe", "refused", f"{exc.errcode} {exc.errmsg}")
            out.status, out.error = "failed", f"no subscription to use: {exc.errcode} {exc.errmsg}"
            return out
        except WeChatAPIError as exc:
            self.quota.give_back()
            return self._failure(out, exc, "subscribe", now)
        self._log(out, "subscribe", "sent", " ".join(f"{k}={v}" for k, v in fields.items()))
        out.msgid, out.sent_at = str(msgid), self.clock()
        return out

    def _content(self, row: dict[str, Any], categories: Any, today: dt.date, channel: str,
                 link: str | None = None) -> Any:
        """The text (channel "text") or template fields of a row. A reminder depends only on the key below
        (scheduler.messages.reminder_data), so a stage's thousands of reminders render a handful of times."""
        payload = row["payload"]
        key = None
        if payload["template"] == "reminder":
            key = (channel, payload["policy"], row["cutoff"], payload.get("cutoff_kind"), payload.get("who"),
                   frozenset(categories), today)
            if key in self._rendered:
                return self._rendered[key]
        template, data = message_data(self.registry, row, categories, today)
        if link:
            data = {**data, "page_url": link}
        content = render_text(template, data) if channel == "text" else render_fields(template, data)
        if key is not None:
            if len(self._rendered) >= 10_000:
                self._rendered.clear()
            self._rendered[key] = content
        return content

    async def _process_safely(self, row: dict[str, Any], claim: Claim) -> Outcome:
        try:
            return await self.process(row, claim)
        except Exception as exc:  # a bug must fail one row, not stall the others in `sending`
            log.exception("outbox row %s", row["key"])
            return Outcome(row, "failed", error=f"internal error: {exc!r}"[:500], called=True)

    # -- results -------------------------------------------------------------------------------------

    async def write(self, outcomes: list[Outcome]) -> None:
        """Record results in one transaction, each only where this sender still holds the claim."""
        async with self.sessions.begin() as session:
            if outcomes:
                await session.execute(
                    update(OUT)
                    .where(OUT.c.id == bindparam("b_id"), OUT.c.status == "sending",
                           OUT.c.attempts == bindparam("b_claim"))
                    # a success keeps the row's last error (e.g. "in doubt"): the history of the row
                    .values(status=bindparam("b_status"),
                            last_error=func.coalesce(bindparam("b_error"), OUT.c.last_error),
                            attempts=bindparam("b_attempts"),
                            sent_at=bindparam("b_sent_at", type_=UtcDateTime()),
                            wechat_msgid=bindparam("b_msgid"),
                            in_doubt_at=func.coalesce(OUT.c.in_doubt_at,
                                                      bindparam("b_in_doubt_at", type_=UtcDateTime())),
                            not_before=func.coalesce(bindparam("b_not_before", type_=UtcDateTime()),
                                                     OUT.c.not_before)),
                    [
                        {"b_id": o.row["id"], "b_claim": o.row["attempts"], "b_status": o.status,
                         "b_error": o.error, "b_sent_at": o.sent_at, "b_msgid": o.msgid,
                         "b_not_before": o.not_before, "b_in_doubt_at": o.in_doubt_at,
                         # `attempts` counts WeChat calls: a claim that made none gives its count back
                         "b_attempts": o.row["attempts"] if o.called else o.row["attempts"] - 1}
                        for o in outcomes
                    ],
                )
            unreachable = sorted({o.row["openid"] for o in outcomes if o.unreachable})
            if unreachable:
                await session.execute(update(F).where(F.c.openid.in_(unreachable)).values(unreachable=True))
            closed = sorted({o.row["openid"] for o in outcomes if o.window_closed})
            if closed:
                await session.execute(update(F).where(F.c.openid.in_(closed)).values(window_sends=WINDOW_SENDS))
            used = Counter()
            for o in outcomes:
                if o.window_sends:
                    used[o.row["openid"]] += o.window_sends
            if used:
                await session.execute(
                    update(F).where(F.c.openid == bindparam("b_openid"))
                    .values(window_sends=F.c.window_sends + bindparam("b_n")),
                    [{"b_openid": k, "b_n": n} for k, n in sorted(used.items())],
                )
            logs = [entry for o in outcomes for entry in o.logs]
            if logs:
                await session.execute(insert(MessageLog.__table__), logs)

    # -- the pipeline --------------------------------------------------------------------------------

    async def drain(self, stop: asyncio.Event | None = None) -> Counter[str]:
        """Send everything due now (or, once `stop` is set, what is already claimed); returns the count of
        each outcome. Claims, calls and writes overlap: a claimer keeps a queue of claimed rows filled,
        `concurrency` workers call WeChat, and a writer commits whatever results have arrived each time its
        previous commit is done."""
        await self.recover()
        stats: Counter[str] = Counter()
        queue: asyncio.Queue[tuple[dict[str, Any], Claim] | None] = asyncio.Queue(maxsize=self.options.batch)
        done: list[Outcome] = []
        ready = asyncio.Event()
        workers_left = self.options.concurrency
        unrecorded = asyncio.Semaphore(self.options.max_unrecorded or 2 * self.options.concurrency)

        async def claimer() -> None:
            try:
                while not (stop and stop.is_set()) and (claim := await self.claim()) is not None:
                    for row in claim.rows:
                        await queue.put((row, claim))
            finally:
                for _ in range(self.options.concurrency):
                    await queue.put(None)

        async def worker() -> None:
            nonlocal workers_left
            try:
                while (item := await queue.get()) is not None:
                    await unrecorded.acquire()
                    done.append(await self._process_safely(*item))
                    ready.set()
            finally:
                workers_left -= 1
                ready.set()

        async def writer() -> None:
            while done or workers_left:
                if not done:
                    await ready.wait()
                    ready.clear()
                    continue
                batch = done[:]
                del done[: len(batch)]
                await self._write_with_retry(batch)
                stats.update(o.status for o in batch)
                for _ in batch:
                    unrecorded.release()

        async with asyncio.TaskGroup() as tg:
            tg.create_task(claimer())
            for _ in range(self.options.concurrency):
                tg.create_task(worker())
            tg.create_task(writer())
        if stats:
            log.info("outbox drained: %s", dict(stats))
        return stats

    async def _write_with_retry(self, batch: list[Outcome], tries: int = 3) -> None:
        for attempt in range(1, tries + 1):
            try:
                await self.write(batch)
                return
            except Exception:
                if attempt == tries:
                    raise
                log.exception("writing %d outbox results failed; retrying", len(batch))
                await asyncio.sleep(0.5 * attempt)
