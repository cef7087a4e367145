"""JWT bearers on organization-scoped routes: the user row is read with the membership.

Every organization-scoped request needs the caller's membership (`OrgScopedMixin.resolve_tenant`),
and that query joins the user row anyway. `DeferredJWTAuthentication` validates the token as
simplejwt does but leaves the user unread (`DeferredUser`); resolving the tenant then reads
membership, organization and user in one query and applies simplejwt's checks to that user. One
query fewer on every such request (issue 7, bench/README.md).

The answers stay simplejwt's: a token whose user is gone or inactive is a 401, whatever the
organization; a valid caller who is not a member gets the 404 of the tenancy rules. Anything that
reads the user before the tenant is resolved loads it the ordinary way.
"""

from django.contrib.auth import get_user_model
from django.utils.functional import SimpleLazyObject, empty
from django.utils.translation import gettext_lazy as _
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

from agents.compiled import CompiledQuery


def user_check(user, validated_token) -> None:
    """simplejwt's checks of a token's user (JWTAuthentication.get_user): active, and when the
    project revokes tokens on password changes, the token's password claim."""
    if api_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
        raise AuthenticationFailed(_("User is inactive"), code="user_inactive")
    if api_settings.CHECK_REVOKE_TOKEN and validated_token.get(
        api_settings.REVOKE_TOKEN_CLAIM
    ) != get_md5_hash_password(user.password):
        raise AuthenticationFailed(
            _("The user's password has been changed."), code="password_changed"
        )


class DeferredUser(SimpleLazyObject):
    """The token's user, read on first use. Says it is authenticated and gives its id without
    reading anything; `resolve` puts in the user read with the membership."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, load, user_id: int, validated_token):
        self.__dict__["user_id"] = user_id
        self.__dict__["validated_token"] = validated_token
        super().__init__(load)

    @property
    def pk(self):
        return self.__dict__["user_id"]

    id = pk

    def __bool__(self) -> bool:
        return True

    @property
    def is_loaded(self) -> bool:
        return self._wrapped is not empty

    def load(self):
        """The user, read now if it was not (simplejwt's 401s if gone or inactive)."""
        if self._wrapped is empty:
            self._setup()
        return self._wrapped

    def resolve(self, user) -> None:
        """Take the user read with the membership, after simplejwt's checks."""
        user_check(user, self.__dict__["validated_token"])
        self._wrapped = user


class DeferredJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication with the user left unread (see the module docstring)."""

    def get_user(self, validated_token):
        user_id = _user_id(validated_token.get(api_settings.USER_ID_CLAIM))
        if user_id is None or api_settings.USER_ID_FIELD not in ("id", "pk"):
            return JWTAuthentication.get_user(self, validated_token)  # simplejwt's own way

        def load():
            # The user by its id, as simplejwt reads it, through a compiled statement; a user
            # who is gone gets simplejwt's own answer from its own lookup.
            user = _USER.first(user_id=user_id)
            if user is None:
                return JWTAuthentication.get_user(self, validated_token)
            user_check(user, validated_token)
            return user

        return DeferredUser(load, user_id, validated_token)


class DeferredJWTMixin:
    """For API views: bearer tokens leave the user unread until it is used (DeferredUser). The
    schema documents simplejwt's scheme, whose tokens these are."""

    def get_authenticators(self):
        authenticators = super().get_authenticators()
        if getattr(self, "swagger_fake_view", False):
            return authenticators
        return [
            DeferredJWTAuthentication() if type(each) is JWTAuthentication else each
            for each in authenticators
        ]


# The read of a token's user when nothing else reads it (GET me/): compiled once (agents.compiled).
_USER = CompiledQuery(
    lambda user_id: get_user_model().objects.filter(pk=user_id).order_by()[:1],
    kinds={"user_id": int},
)


def _user_id(claim) -> int | None:
    """The user id a token names (simplejwt writes it as a string), if it is a plain one."""
    if type(claim) is int:
        return claim
    if type(claim) is str and claim.isascii() and claim.isdigit() and len(claim) <= 18:
        return int(claim)
    return None
