"""The roles exist from the first migrate. Their permissions are (re)synced after every migrate
by gasworks.accounts.roles.sync_role_groups, since permissions are created after migrations run."""

from django.db import migrations

ROLES = ["admin", "cashier", "meter_reader", "inspector", "dispatcher", "filler", "customer"]


def forwards(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0002_initial"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
