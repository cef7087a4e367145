from rest_framework.throttling import SimpleRateThrottle


class AuthRateThrottle(SimpleRateThrottle):
    """Token endpoints: per client address (X-Forwarded-For trusted only as far as NUM_PROXIES),
    through the shared cache, so guessing passwords is slow on every process at once."""

    scope = "auth"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
