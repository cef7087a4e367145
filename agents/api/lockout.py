"""Login lockout (django-axes) for the JWT token endpoint and the admin login.

Axes counts failed logins per username and client address in the database and, after
`AXES_FAILURE_LIMIT` failures, refuses that pair for `AXES_COOLOFF_TIME`. The admin login goes
through Django's `authenticate` and axes' middleware; the token endpoint goes through simplejwt's
serializer, which calls `authenticate(request, username=..., password=...)` with the DRF request,
and this view turns axes' verdict into a 429 with a JSON message (simplejwt would answer a plain
401, which tells the client nothing)."""

from django.conf import settings
from django.contrib.auth.signals import user_logged_in
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.throttling import BaseThrottle
from rest_framework_simplejwt.exceptions import InvalidToken, TokenError
from rest_framework_simplejwt.views import TokenObtainPairView

from agents.api.throttling import AuthRateThrottle, AuthUsernameRateThrottle


class LockedOut(exceptions.APIException):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    default_code = "locked_out"


def client_ip(request) -> str | None:
    """The client address axes counts by: the same rule as DRF's throttles (`NUM_PROXIES`
    trusted entries of X-Forwarded-For, counted from the right; none by default), so a client
    cannot reset its count by sending a forged header."""
    return BaseThrottle().get_ident(request)


class TokenObtainView(TokenObtainPairView):
    throttle_classes = [AuthRateThrottle, AuthUsernameRateThrottle]

    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        try:
            serializer.is_valid(raise_exception=True)
        except TokenError as exc:
            raise InvalidToken(exc.args[0]) from exc
        except exceptions.AuthenticationFailed:
            if getattr(request, "axes_locked_out", False):
                minutes = int(settings.AXES_COOLOFF_TIME.total_seconds() // 60)
                raise LockedOut(
                    _(
                        "Too many failed logins: this account is locked for %(minutes)d minutes "
                        "from this address."
                    )
                    % {"minutes": minutes}
                ) from None
            raise
        # simplejwt logs no one in, so Django's `user_logged_in` never fires: send it, so that
        # axes resets the failure count on success (AXES_RESET_ON_SUCCESS).
        user_logged_in.send(sender=type(serializer.user), request=request, user=serializer.user)
        return Response(serializer.validated_data, status=status.HTTP_200_OK)
