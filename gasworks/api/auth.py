from rest_framework.authentication import TokenAuthentication as BaseTokenAuthentication
from rest_framework.authtoken.models import Token

from gasworks.accounts import store
from gasworks.accounts.access import load_permissions
from gasworks.system.audit import _actor


class TokenAuthentication(BaseTokenAuthentication):
    """Token auth that also names the user as the actor in the audit log (the middleware only
    sees the session user, and token auth happens later, inside the view).

    Every API call passes here, so it is lean: the token and its user in one hand-written join
    (DRF's select_related query costs several times as much to build as to run), then the
    user's permissions in one more query (load_permissions), which every has_perm of the request
    then reads from the user object. An unknown token or an inactive user goes to DRF's own
    check, which refuses it."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is not None:
            _actor.set(result[0])
        return result

    def authenticate_credentials(self, key):
        user = store.user_by_token(key)
        if user is None or not user.is_active:
            return super().authenticate_credentials(key)  # DRF's own refusal, in its words
        token = Token(key=key, user=user)  # request.auth: the key and its user are all anyone reads
        load_permissions(user)
        return user, token
