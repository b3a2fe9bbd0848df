"""Every input field declared on a form or serializer class of gasworks, for tests that check a
rule holds for all of them (decimals bounded by their column, dates in a plausible window)."""

import importlib
import inspect
import pkgutil

from django import forms
from rest_framework import serializers

import gasworks


def _classes():
    for info in pkgutil.walk_packages(gasworks.__path__, "gasworks."):
        if ".migrations" in info.name or info.name.endswith((".wsgi", ".celery")):
            continue
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def declared_fields():
    """(where, field) for each field declared on a Form or Serializer class of gasworks."""
    for cls in _classes():
        if issubclass(cls, forms.BaseForm):
            declared = cls.base_fields
        elif issubclass(cls, serializers.BaseSerializer) and hasattr(cls, "_declared_fields"):
            declared = cls._declared_fields
        else:
            continue
        for name, field in declared.items():
            yield f"{cls.__module__}.{cls.__name__}.{name}", field
