"""On PostgreSQL, trigram indexes for "name or account number contains": the audit log's `q`
finds the ledger entries of the customers it matches."""

from django.db import migrations

from gasworks.lib.db import icontains_trigram_indexes


class Migration(migrations.Migration):
    dependencies = [("customers", "0004_account_event_choices")]
    operations = [
        icontains_trigram_indexes(
            {
                "customer_name_trgm": ("customers_customer", "name"),
                "customer_account_no_trgm": ("customers_customer", "account_no"),
            }
        )
    ]
