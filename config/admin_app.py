"""The admin app with our site (`core.admin.CreditLineAdminSite`) as `admin.site`, so every
admin registered on it — ours and the libraries' — is built the same way."""

from django.contrib.admin.apps import AdminConfig


class CreditLineAdminConfig(AdminConfig):
    default_site = "core.admin.CreditLineAdminSite"
