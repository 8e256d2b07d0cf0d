"""The admin base classes every app's back office builds on.

Rows that services write (accounts, ledger, audit trails, the outbox…) are shown read-only:
staff change things only through operations that call the services, which check the
permissions themselves. An admin that lets staff add one kind of row overrides
`has_add_permission` and nothing else.

Searches never put what was searched in a URL (a phone number in `?q=` ends in the access log):
the changelist search form posts to `admin_search`, which keeps the query in the session under a
random token and redirects to the changelist with `?_sq=<token>`; every registered admin reads
it back (`TokenSearchMixin`, which `CreditLineAdminSite` gives every admin registered on it).
"""

import secrets
from collections.abc import Callable

from django.contrib import admin
from django.contrib.admin.views.main import SEARCH_VAR, ChangeList, ChangeListSearchForm
from django.http import HttpResponseBadRequest, HttpResponseRedirect
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.http import require_POST


class ReadOnly:
    """Staff look; nobody adds, edits or deletes a row here."""

    # `obj` is optional so one signature fits ModelAdmin (request) and inlines (request, obj).
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ReadOnlyAdmin(ReadOnly, admin.ModelAdmin):
    # Audit and ledger tables only grow: skip the COUNT(*) over the whole table on a search.
    show_full_result_count = False


class ReadOnlyTabularInline(ReadOnly, admin.TabularInline):
    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields


# --- searches kept out of URLs ----------------------------------------------------------------

SEARCH_TOKEN_VAR = "_sq"  # noqa: S105 - a query parameter name, not a secret
_SESSION_KEY = "admin_searches"
_SEARCHES_KEPT = 20
# Rewrites of a search term before the lookup, registered by the apps that know a format
# (accounts: a phone number typed in any accepted form becomes the stored E.164).
search_term_rewrites: list[Callable[[str], str]] = []


def saved_search(request, token: str) -> str:
    return request.session.get(_SESSION_KEY, {}).get(token, "")


@require_POST
def admin_search(request):
    """Keep the query in the session and send the browser to the changelist with a token."""
    target = request.POST.get("changelist", "")
    if not target.startswith("/") or not url_has_allowed_host_and_scheme(
        target, {request.get_host()}, request.is_secure()
    ):
        return HttpResponseBadRequest()
    skip = {SEARCH_VAR, SEARCH_TOKEN_VAR, "changelist", "csrfmiddlewaretoken"}
    params = [(k, v) for k, v in request.POST.items() if k not in skip]
    query = request.POST.get(SEARCH_VAR, "").strip()
    if query:
        token = secrets.token_urlsafe(12)
        searches = dict(list(request.session.get(_SESSION_KEY, {}).items())[-_SEARCHES_KEPT + 1 :])
        searches[token] = query
        request.session[_SESSION_KEY] = searches
        params.append((SEARCH_TOKEN_VAR, token))
    return HttpResponseRedirect(f"{target}?{urlencode(params)}" if params else target)


class TokenSearchChangeList(ChangeList):
    """Reads the query of `?_sq=<token>` from the session; links keep the token, not the query."""

    def __init__(self, request, *args, **kwargs):
        token = request.GET.get(SEARCH_TOKEN_VAR)
        self._saved_query = None if token is None else saved_search(request, token)
        super().__init__(request, *args, **kwargs)

    @property
    def search_form_class(self):
        saved = self._saved_query

        class SearchForm(ChangeListSearchForm):
            def clean(self):
                data = super().clean()
                if saved is not None:
                    data[SEARCH_VAR] = saved
                return data

        return SearchForm

    def get_filters_params(self, params=None):
        lookup_params = super().get_filters_params(params)
        lookup_params.pop(SEARCH_TOKEN_VAR, None)
        return lookup_params


class TokenSearchMixin:
    def get_changelist(self, request, **kwargs):
        return TokenSearchChangeList

    def get_search_results(self, request, queryset, search_term):
        for rewrite in search_term_rewrites:
            search_term = rewrite(search_term)
        return super().get_search_results(request, queryset, search_term)


class CreditLineAdminSite(admin.AdminSite):
    """`admin.site` (config/admin_app.py): every admin registered on it, ours and the
    libraries', searches through `TokenSearchMixin`."""

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, TokenSearchMixin):
            admin_class = type(admin_class.__name__, (TokenSearchMixin, admin_class), {})
        super().register(model_or_iterable, admin_class, **options)
