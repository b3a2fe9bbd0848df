from rest_framework.authentication import TokenAuthentication as BaseTokenAuthentication

from gasworks.system.audit import _actor


class TokenAuthentication(BaseTokenAuthentication):
    """Token auth that also names the user as the actor in the audit log (the middleware only
    sees the session user, and token auth happens later, inside the view)."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _actor.set(result[0])
        return result
