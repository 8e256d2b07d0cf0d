"""/api/v1/auth/: customer API tokens."""

from django.urls import path

from accounts import apis

app_name = "api_auth"

urlpatterns = [
    path("token/", apis.TokenIssueApi.as_view(), name="token"),
    path("token/revoke/", apis.TokenRevokeApi.as_view(), name="token-revoke"),
]
