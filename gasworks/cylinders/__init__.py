"""Bottled LPG: stations, cylinders and their events, fillings by weight, residual weighings,
cylinder inspections, LPG prices, orders and deliveries, returns and deposits. Posts sales and
deposits to the billing ledger; publishes LpgOrderDelivered."""
