"""The accounts app's SQL: the two hand-written reads on every request's path (a token's user,
a user's permissions), each one query where the ORM would take two or three. Nothing else in
the project opens a cursor for them."""

import functools

from django.contrib.auth import get_user_model
from django.db import connection, connections, router
from rest_framework.authtoken.models import Token


def user_by_token(key: str):
    """The user whose API token is ``key`` (one join), or None."""
    return next(iter(get_user_model().objects.raw(_token_user_sql(), [key])), None)


def permission_rows(user_pk: int) -> list[tuple[str, str, str]]:
    """(source "user" or "group", app label, codename) of every permission the user holds,
    ModelBackend's two queries as one UNION ALL."""
    from django.contrib.auth.models import Permission

    db = connections[router.db_for_read(Permission)]
    with db.cursor() as cursor:
        cursor.execute(_permissions_sql(db.alias), [user_pk, user_pk])
        return cursor.fetchall()


@functools.cache
def _token_user_sql() -> str:
    def qn(name: str | None) -> str:  # concrete fields always have a column
        return connection.ops.quote_name(name or "")

    user_model = get_user_model()
    columns = ", ".join(f"u.{qn(f.column)}" for f in user_model._meta.concrete_fields)
    token = Token._meta
    return (
        f"SELECT {columns} "  # noqa: S608 (model names)
        f"FROM {qn(token.db_table)} t JOIN {qn(user_model._meta.db_table)} u "
        f"ON u.{qn(user_model._meta.pk.column)} = t.{qn(token.get_field('user').column)} "
        f"WHERE t.{qn(token.pk.column)} = %s"
    )


@functools.cache
def _permissions_sql(alias: str) -> str:
    """ModelBackend's two permission queries as one UNION ALL, tagged by where each row came from."""
    from django.contrib.auth.models import Group, Permission
    from django.contrib.contenttypes.models import ContentType

    qn = connections[alias].ops.quote_name
    user_model = get_user_model()
    own, memberships, granted = (
        user_model.user_permissions.through._meta,
        user_model.groups.through._meta,
        Group.permissions.through._meta,
    )

    def col(alias: str, meta, field: str) -> str:
        return f"{alias}.{qn(meta.get_field(field).column)}"

    def select(source: str) -> str:
        return (
            f"SELECT '{source}', ct.{qn('app_label')}, p.{qn('codename')} "  # noqa: S608 (names from the models)
            f"FROM {qn(Permission._meta.db_table)} p "
            f"JOIN {qn(ContentType._meta.db_table)} ct ON ct.{qn('id')} = p.{qn('content_type_id')} "
        )

    return (
        select("user")
        + f"JOIN {qn(own.db_table)} up ON {col('up', own, 'permission')} = p.{qn('id')} "
        + f"WHERE {col('up', own, 'user')} = %s UNION ALL "
        + select("group")
        + f"JOIN {qn(granted.db_table)} gp ON {col('gp', granted, 'permission')} = p.{qn('id')} "
        + f"JOIN {qn(memberships.db_table)} ug "
        + f"ON {col('ug', memberships, 'group')} = {col('gp', granted, 'group')} "
        + f"WHERE {col('ug', memberships, 'user')} = %s"
    )
