"""Payments (counter, online gateways, bank statements), refunds, receipts and their numbering,
cashier shifts, IC cards. Posts to the billing ledger; publishes PaymentReceived and
PaymentRefunded; asks DueLines and VolumeForAmount."""
