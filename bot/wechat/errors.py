"""WeChat API errors as typed exceptions, so callers (webhook, scheduler, console) branch on a class.

`error_for(errcode, errmsg)` maps a WeChat `errcode` to its class; codes we have no class for stay the base
`WeChatAPIError` with the code attached. A call whose outcome is unknown is an `InDoubtError`.
"""

from __future__ import annotations

from wechatpy.constants import WeChatErrorCode as Code

from bot.catalogue import t


class WeChatAPIError(Exception):
    """An error answer from the WeChat API (or the HTTP layer in front of it)."""

    retryable: bool = False  # worth another try after a pause

    def __init__(self, errcode: int, errmsg: str = "", *, endpoint: str = ""):
        self.errcode = errcode
        self.errmsg = errmsg
        self.endpoint = endpoint
        where = f" from {endpoint}" if endpoint else ""
        super().__init__(f"WeChat error {errcode}{where}: {errmsg}")

    def for_staff(self) -> str:
        """What staff read: WeChat's code and message, or, when WeChat was never reached (errcode 0: no
        connection, a timeout, an unreadable answer), that it was not, with what to check."""
        if self.errcode == 0:
            return t("wechat_api.unreachable", message=self.errmsg)
        return t("wechat_api.returned", code=self.errcode, message=self.errmsg)


class BusyError(WeChatAPIError):
    """-1: WeChat is busy; try again shortly."""

    retryable = True


class InvalidTokenError(WeChatAPIError):
    """40001 / 40014: the access_token is not valid (refresh and retry once)."""


class TokenExpiredError(WeChatAPIError):
    """42001: the access_token expired (refresh and retry once)."""


class NotFollowingError(WeChatAPIError):
    """43004: the user no longer follows the account."""


class UserRefusedError(WeChatAPIError):
    """43101: the user refused the message or has no subscription quota left."""


class RateLimitedError(WeChatAPIError):
    """45009: the API's call frequency limit."""

    retryable = True


class OutsideWindowError(WeChatAPIError):
    """45015: the 48-hour customer-service window is closed."""


class WindowCountExceededError(WeChatAPIError):
    """45047: the customer-service window's message count is used up."""


class ServerError(WeChatAPIError):
    """An HTTP 5xx, a timeout or a broken connection; `errcode` is the HTTP status (0 when there is none)."""

    retryable = True


class InDoubtError(WeChatAPIError):
    """A call sent to WeChat whose answer never came (a timeout, or the connection dropped after the request
    went out): WeChat may have acted on it. Never "failed", and not retried as if nothing happened: a message
    may have been delivered (scheduler/sender.py decides per channel). `errcode` is 0."""


ERRORS: dict[int, type[WeChatAPIError]] = {
    Code.SYSTEM_BUSY: BusyError,
    Code.INVALID_CREDENTIAL: InvalidTokenError,
    Code.INVALID_ACCESS_TOKEN: InvalidTokenError,
    Code.EXPIRED_ACCESS_TOKEN: TokenExpiredError,
    Code.REQUIRE_SUBSCRIBE: NotFollowingError,
    Code.USER_REFUSE_TO_ACCEPT_THE_MESSAGE: UserRefusedError,
    Code.OUT_OF_API_FREQ_LIMIT: RateLimitedError,
    Code.OUT_OF_RESPONSE_TIME_LIMIT: OutsideWindowError,
    Code.OUT_OF_RESPONSE_COUNT_LIMIT: WindowCountExceededError,
}

TOKEN_ERRORS = (InvalidTokenError, TokenExpiredError)


def error_for(errcode: int, errmsg: str = "", *, endpoint: str = "") -> WeChatAPIError:
    return ERRORS.get(errcode, WeChatAPIError)(errcode, errmsg, endpoint=endpoint)
