"""One small adapter per channel, configured by environment. `active(channel)` is the adapter a
channel sends through (None: the channel is not configured, and no message is queued for it)."""

from __future__ import annotations

import os

from django.conf import settings

from gasworks.notifications.channels.aliyun import AliyunSmsAdapter
from gasworks.notifications.channels.base import Adapter, Outcome
from gasworks.notifications.channels.dev import DevAdapter
from gasworks.notifications.channels.email import EmailAdapter
from gasworks.notifications.channels.portal import PortalAdapter
from gasworks.notifications.channels.tencent import TencentSmsAdapter
from gasworks.notifications.channels.wechat import WechatAdapter

__all__ = ["Adapter", "Outcome", "active", "adapters", "by_code"]


def adapters() -> list[Adapter]:
    """Every adapter there is, configured or not (the admin's channel page lists them)."""
    return [
        PortalAdapter(),
        EmailAdapter(),
        AliyunSmsAdapter(),
        TencentSmsAdapter(),
        DevAdapter("sms"),
        WechatAdapter(),
        DevAdapter("wechat"),
    ]


# NOTIFY_SMS_PROVIDER=aliyun|tencent|dev and NOTIFY_WECHAT_PROVIDER=wechat|dev name the provider.
PROVIDERS: dict[str, dict[str, type[Adapter]]] = {
    "sms": {"aliyun": AliyunSmsAdapter, "tencent": TencentSmsAdapter},
    "wechat": {"wechat": WechatAdapter},
}


def _dev_wanted(channel: str) -> bool:
    # The demo and development send SMS and WeChat to the development channel (kept, shown on
    # an admin page); a production server names a real provider or has no such channel.
    choice = os.environ.get(f"NOTIFY_{channel.upper()}_PROVIDER", "")
    return choice == "dev" or (not choice and settings.DEBUG)


def active(channel: str) -> Adapter | None:
    if channel == "portal":
        return PortalAdapter()
    if channel == "email":
        adapter = EmailAdapter()
        return adapter if adapter.configured() else None
    if _dev_wanted(channel):
        return DevAdapter(channel)
    chosen = PROVIDERS.get(channel, {}).get(os.environ.get(f"NOTIFY_{channel.upper()}_PROVIDER", ""))
    if chosen is None:
        return None
    real = chosen()
    return real if real.configured() else None


def by_code(code: str, channel: str) -> Adapter | None:
    """The adapter that sent a message (for reconciling one caught mid-send)."""
    for adapter in adapters():
        if adapter.code == code and adapter.channel == channel:
            return adapter
    return None
