"""WeChat Official Account (微信公众号) template messages through `wechatpy`.

Environment: WECHAT_APP_ID, WECHAT_APP_SECRET, WECHAT_TEMPLATES (`kind=template_id,...`) and
WECHAT_API_BASE to point elsewhere than https://api.weixin.qq.com/cgi-bin/. A customer is reached
at the OpenID kept in their preferences. The template's data are named after our variables
(`{{account_no.DATA}}` and the event's own, e.g. `{{amount.DATA}}`).

The access token is kept in Django's cache (shared by every process when REDIS_URL is set) for
the life WeChat gives it, so it is fetched once per two hours, not once per message.

WeChat has no idempotency key and no way to ask whether a template message went out (its
TEMPLATESENDJOBFINISH event is pushed to a callback, after the fact): a message caught mid-send
is marked failed for a person to check and resend, never sent again blindly."""

from __future__ import annotations

from functools import lru_cache

from django.utils.translation import gettext as _

from gasworks.notifications.channels.base import (
    Adapter,
    Outcome,
    env,
    provider_variables,
    summary,
    template_ids,
)

# errcodes worth trying again: system busy, frequency and daily limits, token trouble.
RETRY_CODES = {-1, 45009, 45011, 45047, 40001, 42001, 40014}
# Anything else fails at once, e.g. 40003 invalid OpenID, 43004 not subscribed, 43019 blacklisted,
# 40037 invalid template id, 47003 template data refused.


class CacheStorage:
    """wechatpy's session storage on Django's cache (the access token and its expiry)."""

    def get(self, key, default=None):
        from django.core.cache import cache

        return cache.get(f"wechat:{key}", default)

    def set(self, key, value, ttl=None):
        from django.core.cache import cache

        cache.set(f"wechat:{key}", value, ttl)

    def delete(self, key):
        from django.core.cache import cache

        cache.delete(f"wechat:{key}")


@lru_cache(maxsize=2)
def _client(app_id: str, secret: str, base: str):
    from wechatpy import WeChatClient

    class Client(WeChatClient):
        API_BASE_URL = base or WeChatClient.API_BASE_URL

        def fetch_access_token(self):
            # wechatpy names the token URL in full; take it from the same base.
            return self._fetch_access_token(
                url=f"{self.API_BASE_URL}token",
                params={"grant_type": "client_credential", "appid": self.appid, "secret": self.secret},
            )

    return Client(app_id, secret, session=CacheStorage(), timeout=10)


class WechatAdapter(Adapter):
    code = "wechat"
    channel = "wechat"

    def configured(self) -> bool:
        return bool(env("WECHAT_APP_ID") and env("WECHAT_APP_SECRET"))

    def describe(self) -> str:
        return summary(_("WeChat Official Account"), "", template_ids("WECHAT_TEMPLATES"))

    def address(self, customer, preference):
        openid = getattr(preference, "wechat_openid", "") if preference else ""
        return (openid, "") if openid else ("", "no WeChat account linked")

    def send(self, message, subject, text):
        import requests
        from wechatpy.exceptions import WeChatClientException

        template = template_ids("WECHAT_TEMPLATES").get(message.event)
        if not template:
            return Outcome(sent=False, error=f"no WeChat template for {message.event}")
        data = {name: {"value": value} for name, value in provider_variables(message).items()}
        client = _client(env("WECHAT_APP_ID"), env("WECHAT_APP_SECRET"), env("WECHAT_API_BASE"))
        try:
            answer = client.message.send_template(message.address, template, data)
        except WeChatClientException as exc:
            if exc.errcode is None:  # an HTTP error (a 5xx): WeChat did not answer
                status = getattr(exc.response, "status_code", "")
                return Outcome(sent=False, retry=True, error=f"HTTP {status}".strip())
            return Outcome(
                sent=False, retry=int(exc.errcode) in RETRY_CODES, error=f"{exc.errcode}: {exc.errmsg}"[:255]
            )
        except requests.RequestException as exc:  # a timeout, a refused connection
            return Outcome(sent=False, retry=True, error=f"{type(exc).__name__}: {exc}"[:255])
        return Outcome(sent=True, ref=f"wechat:{answer.get('msgid', '')}")
