"""Anomaly-alert settings (``SHOPBOT_ALERTS_*``): one threshold (or two) per rule (R3.4-2, R4.1-6)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from commerce_core.api import AlertThresholds


class AlertSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="SHOPBOT_ALERTS_", extra="ignore")

    #: run the anomaly rules on the outbox events (off: no alerts are raised)
    enabled: bool = True
    #: failed payments of one shopper, and of the whole platform, within the window
    payment_failures_per_shopper: int = Field(default=3, ge=1, le=10_000)
    payment_failures_platform: int = Field(default=20, ge=1, le=1_000_000)
    payment_failure_window_minutes: int = Field(default=10, ge=1, le=24 * 60)
    #: an order at or above this total (in the currency's main unit: yuan) or this many items
    large_order_amount: float = Field(default=20_000.0, gt=0, le=1e9)
    large_order_quantity: int = Field(default=50, ge=1, le=1_000_000)
    #: new accounts (created within ``new_account_days``) sharing one phone or address
    accounts_per_contact: int = Field(default=3, ge=2, le=10_000)
    new_account_days: int = Field(default=7, ge=1, le=365)
    #: one shopper's paid-then-refunded orders within the window
    refund_loop_orders: int = Field(default=3, ge=2, le=10_000)
    refund_loop_window_hours: int = Field(default=72, ge=1, le=24 * 365)

    def core(self) -> AlertThresholds:
        return AlertThresholds(
            payment_failures_per_shopper=self.payment_failures_per_shopper,
            payment_failures_platform=self.payment_failures_platform,
            payment_failure_window_minutes=self.payment_failure_window_minutes,
            large_order_amount=self.large_order_amount,
            large_order_quantity=self.large_order_quantity,
            accounts_per_contact=self.accounts_per_contact,
            new_account_days=self.new_account_days,
            refund_loop_orders=self.refund_loop_orders,
            refund_loop_window_hours=self.refund_loop_window_hours,
        )
