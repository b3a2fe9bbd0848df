"""The OpenAPI schema's error answers: every 4xx of the API has one body,
``{"error": {"code", "message", "fields"}}`` (gasworks.api.errors), documented once as the `Error` component and attached to each operation's
400/401/403/404/409 where that status can occur.

Where a status can occur follows from the view, not from per-view decorators:
- 400 invalid input: operations that take a body (POST, PUT, PATCH);
- 401 no valid credentials, 403 a role that may not act: operations behind authentication (a view
  that allows anyone, such as the signed device ingest or gateway callbacks, checks its own proof
  and says so in `api_errors`);
- 404 an object the caller may not see: operations with a path parameter, and paginated lists
  (a page past the end);
- 409 conflict or wrong state: operations that change something (POST, PUT, PATCH, DELETE).
A view that knows better lists an operation's statuses in `api_errors`, keyed by action
(viewsets) or method (plain views); the list replaces the rules' guess, e.g. a GET that refuses an
unpaid order with 409, or a token exchange that answers 401 to a wrong password.
"""

from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import AllowAny

ERROR_STATUSES = (400, 401, 403, 404, 409)
_WRITES = {"POST", "PUT", "PATCH", "DELETE"}
_DESCRIPTIONS = {
    400: "Invalid input: `fields` names each field refused and why.",
    401: "No valid credentials.",
    403: "The caller's role may not do this.",
    404: "No such object, or one the caller may not see.",
    409: "A conflict: a duplicate, or the object is in the wrong state for this.",
}
ERROR_SCHEMA = {
    "type": "object",
    "description": "Every 4xx answer of the API.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {"type": "string", "description": "snake_case, stable: what went wrong."},
                "message": {"type": "string", "description": "For people, in the caller's language."},
                "fields": {
                    "type": "object",
                    "description": "Each refused input field (nested ones dotted) with its messages; may be empty.",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                },
            },
            "required": ["code", "message", "fields"],
        }
    },
    "required": ["error"],
}


def error_component() -> ResolvedComponent:
    return ResolvedComponent(name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA)


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        component = error_component()
        registry.register_on_missing(component)
        responses = operation.setdefault("responses", {})
        for code in sorted(self.error_statuses(operation)):
            responses.setdefault(
                str(code),
                {
                    "content": {"application/json": {"schema": component.ref}},
                    "description": _DESCRIPTIONS[code],
                },
            )
        return operation

    def error_statuses(self, operation: dict) -> set[int]:
        key = getattr(self.view, "action", None) or self.method.lower()
        declared = getattr(self.view, "api_errors", {})
        if key in declared:
            return set(declared[key])
        statuses: set[int] = set()
        if self.method in {"POST", "PUT", "PATCH"}:
            statuses.add(400)
        if not self._open_to_anyone():
            statuses |= {401, 403}
        has_path_parameter = any(p.get("in") == "path" for p in operation.get("parameters", []))
        if has_path_parameter or (self.method == "GET" and self._is_list_view() and self._get_paginator()):
            statuses.add(404)
        if self.method in _WRITES:
            statuses.add(409)
        return statuses

    def _open_to_anyone(self) -> bool:
        return any(isinstance(permission, AllowAny) for permission in self.view.get_permissions())
