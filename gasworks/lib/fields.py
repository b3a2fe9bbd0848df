"""Model fields with a guard at the write.

``DecimalField`` is Django's, except that a value too wide for the column is refused before any
SQL (InvalidInput, a 400 with the field named) instead of being written: on SQLite it would be
stored and then break every read of the row; on PostgreSQL it is a DataError, a 500. It covers
every write path of the ORM (save, create, bulk_create, update with a value). It deconstructs as
Django's field, so migrations do not see it.
"""

from django.db import models

from gasworks.errors import InvalidInput
from gasworks.lib import decimals


class DecimalField(models.DecimalField):
    def get_db_prep_save(self, value, connection):
        if value is not None and not hasattr(value, "as_sql") and not hasattr(value, "resolve_expression"):
            number = self.to_python(value)
            problem = decimals.overflow_error(number, self.max_digits, self.decimal_places)
            if problem is not None:
                raise InvalidInput("out_of_range", problem, fields={self.name: [problem]})
        return super().get_db_prep_save(value, connection)

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "django.db.models.DecimalField", args, kwargs
