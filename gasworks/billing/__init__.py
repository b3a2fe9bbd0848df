"""Tariffs, billing runs, bills and bill lines, the ledger (Account, LedgerEntry: the only writer
of money), adjustments, late fees, prepaid charges and valve commands. Reads metering; publishes
BillsIssued, LowBalance, ValveCommandQueued (billing/events.py); answers the balance, due-lines
and IC-card volume questions."""
