from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config import health
from core.admin import admin_search
from credit.views import account_overview

portal_patterns = (
    [path("", account_overview, name="home")],
    "portal",
)

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/search/", admin.site.admin_view(admin_search), name="admin-search"),
    path("admin/", admin.site.urls),
    path("accounts/", include("accounts.urls")),
    path("notifications/", include("notifications.urls")),
    path("appeals/", include("appeals.urls")),
    path("api/v1/auth/", include("accounts.api_urls")),
    path("api/v1/appeals/", include("appeals.api_urls")),
    path("api/v1/", include("credit.apis.urls")),
    path("credit/", include("credit.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include(portal_patterns)),
]

handler400 = "config.api_errors.handler400"
handler403 = "config.api_errors.handler403"
handler404 = "config.api_errors.handler404"
handler500 = "config.api_errors.handler500"
