from django.db import transaction
from django.utils.translation import gettext as _

from gasworks.errors import InvalidInput
from gasworks.system import parameters
from gasworks.system.models import Parameter


@transaction.atomic
def set_parameters(values: dict[str, str]) -> None:
    """Store the given parameters, all or none: one bad value refuses the whole set."""
    errors: dict[str, list[str]] = {}
    parsed: dict[str, str] = {}
    for key, raw in values.items():
        spec = parameters.REGISTRY.get(key)
        if spec is None:
            errors[key] = [_("Unknown parameter.")]
            continue
        try:
            parameters.parse(spec, raw)
        except parameters.ParameterError as exc:
            errors[key] = [str(exc)]
            continue
        parsed[key] = raw.strip()
    if errors:
        raise InvalidInput("invalid_parameters", _("Some values are not valid; nothing was saved."), errors)
    for key, raw in parsed.items():
        current = Parameter.objects.filter(key=key).first()
        if current is None:
            if raw != str(parameters.REGISTRY[key].default):
                Parameter.objects.create(key=key, value=raw)
        elif current.value != raw:
            current.value = raw
            current.save()
