"""The customer list as a report: the customer list page's Excel export (all accounts, streamed,
in the background when long) goes through the report frame like every other export."""

from gasworks.reports.customer_list.report import CustomerList
from gasworks.reports.framework import register

register(CustomerList())
