"""Payment gateways: one adapter per provider behind gasworks.payments.gateways.base.Gateway."""

from gasworks.payments.gateways.base import (
    Gateway,
    GatewayError,
    Notification,
    available_gateways,
    get_gateway,
    offered_gateway,
    sandbox_enabled,
)

__all__ = [
    "Gateway",
    "GatewayError",
    "Notification",
    "available_gateways",
    "get_gateway",
    "offered_gateway",
    "sandbox_enabled",
]
