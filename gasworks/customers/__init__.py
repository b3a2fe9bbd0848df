"""Customers (residential, commercial, industrial), their premises, status changes and account
numbers. The bottom domain app: it knows no other; it asks for a balance through
gasworks.customers.events."""
