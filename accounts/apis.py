"""/api/v1/auth/: a customer app gets an API token with phone + password and revokes it.

The password goes through `django.contrib.auth.authenticate`, so django-axes counts the
failures and its lockout applies, exactly as on the portal login page.
"""

from axes.helpers import get_cool_off
from django.contrib.auth import authenticate
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import CustomerTokenAuthentication
from accounts.phone import phone_as_stored
from accounts.services import (
    TOKEN_PREFIX_LENGTH,
    InvalidCredentials,
    LoginLocked,
    api_token_issue,
    api_token_revoke,
)
from core.api_language import ApiLanguage
from core.http import client_ip
from core.throttles import TokenIssueIpThrottle, TokenIssuePhoneThrottle

ERROR_BODY = {
    "type": "object",
    "properties": {"code": {"type": "string"}, "detail": {"type": "string"}},
    "required": ["code", "detail"],
}


def _error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ERROR_BODY, description=description)


class CustomerTokenScheme(OpenApiAuthenticationExtension):
    target_class = CustomerTokenAuthentication
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>` — from POST /api/v1/auth/token/, shown once; "
            "it expires (`expiry`) and can be revoked.",
        }


class TokenIssueIn(serializers.Serializer):
    phone = serializers.CharField(max_length=32, help_text=_("Mainland mobile number."))
    password = serializers.CharField(max_length=128, trim_whitespace=False)
    device_name = serializers.CharField(
        max_length=64,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("How the app names this device; recorded with the sign-in."),
    )


class TokenOut(serializers.Serializer):
    token = serializers.CharField(help_text=_("Shown this once; send as `Token <token>`."))
    token_prefix = serializers.CharField(help_text=_("What staff and lists show of it."))
    expiry = serializers.DateTimeField()


class TokenRevokeIn(serializers.Serializer):
    all = serializers.BooleanField(
        required=False, default=False, help_text=_("Revoke every token of mine.")
    )


def _phone(raw: str) -> str:
    """The stored form of a number typed in any accepted form (else as typed)."""
    return phone_as_stored(raw.strip())


class TokenIssueApi(ApiLanguage, APIView):
    authentication_classes: list = []
    permission_classes = [permissions.AllowAny]
    throttle_classes = [TokenIssueIpThrottle, TokenIssuePhoneThrottle]

    def throttle_phone(self, request) -> str:
        """The number the per-phone limit counts (core/throttles.py), normalised."""
        return _phone(str(request.data.get("phone", "")))[:32]

    @extend_schema(
        request=TokenIssueIn,
        responses={
            201: TokenOut,
            400: _error(
                "`invalid_credentials` (unknown number or wrong password alike) or `invalid_input`."
            ),
            403: _error("`not_a_customer`: staff get no API token."),
            429: _error(
                "`login_locked` after too many failures (axes), or `throttled`; "
                "both with `Retry-After`."
            ),
        },
        summary="Get an API token (phone + password); the token is shown only here",
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenIssueIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        http_request = request._request
        user = authenticate(
            request=http_request, username=_phone(data["phone"]), password=data["password"]
        )
        if getattr(http_request, "axes_locked_out", False):
            # We answer the lockout in JSON ourselves; AxesMiddleware would put its page here.
            http_request.axes_locked_out = False
            cool_off = get_cool_off(http_request)  # None: locked until staff unlock it
            raise LoginLocked(retry_after=int(cool_off.total_seconds()) if cool_off else None)
        if user is None:
            raise InvalidCredentials()
        token, raw = api_token_issue(
            user=user,
            ip_address=client_ip(request),
            user_agent=request.META.get("HTTP_USER_AGENT", ""),
            device_id=data["device_name"] or getattr(http_request, "device_id", ""),
            now=timezone.now(),
        )
        body = {"token": raw, "token_prefix": raw[:TOKEN_PREFIX_LENGTH], "expiry": token.expiry}
        return Response(TokenOut(body).data, status=status.HTTP_201_CREATED)


class TokenRevokeApi(ApiLanguage, APIView):
    authentication_classes = [CustomerTokenAuthentication]
    permission_classes = [permissions.IsAuthenticated]

    @extend_schema(
        request=TokenRevokeIn,
        responses={
            204: OpenApiResponse(description="Revoked: the token no longer works."),
            400: _error("`invalid_input`."),
            401: _error("No valid token (already revoked, expired or unknown)."),
        },
        summary="Revoke the token of this call, or with `all` every token of mine",
        tags=["auth"],
    )
    def post(self, request):
        serializer = TokenRevokeIn(data=request.data)
        serializer.is_valid(raise_exception=True)
        api_token_revoke(
            user=request.user, token=request.auth, everywhere=serializer.validated_data["all"]
        )
        return Response(status=status.HTTP_204_NO_CONTENT)
