from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyRecord(models.Model):
    """Stripe-style replay protection for write APIs (invariant 8).

    A key is scoped to its caller (a customer or a merchant) and remembers the request's
    fingerprint and the response, so a replay returns the same answer and a reuse with a
    different payload is refused. Rows are kept at least `IDEMPOTENCY_KEY_TTL_HOURS`.
    A row is written only with the effect it answers for (a request still running holds an
    advisory lock instead; see credit/apis/idempotency.py), so every row is a finished one.
    """

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")
        ]

    def __str__(self):
        return f"{self.scope}:{self.key} ({self.response_status})"
