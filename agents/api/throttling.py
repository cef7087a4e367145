import hashlib

from rest_framework.exceptions import ParseError
from rest_framework.throttling import SimpleRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Token endpoints: per client address (X-Forwarded-For trusted only as far as NUM_PROXIES),
    through the shared cache, so guessing passwords is slow on every process at once."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class AuthUsernameRateThrottle(SimpleRateThrottle):
    """The token endpoint per user name, whatever the address: credential stuffing spread over
    many addresses (which the per-address throttle and axes' username+address lockout do not
    see) is slowed down for each account. Counted in the shared cache like every throttle.

    The user name is folded to lower case and hashed, so `Victim` and `victim` share a counter
    and the cache key never carries client text. A body without a user name is not counted
    here; the serializer answers it with a 400."""

    scope = "auth_user"

    def get_cache_key(self, request, view):
        try:
            username = request.data.get("username")
        except (ParseError, AttributeError):
            return None
        if not isinstance(username, str) or not username.strip():
            return None
        digest = hashlib.sha256(username.strip().casefold().encode()).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": digest}
