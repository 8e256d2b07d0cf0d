from django.db import models
from django.utils.translation import gettext_lazy as _


class IdempotencyStatus(models.TextChoices):
    IN_FLIGHT = "IN_FLIGHT", _("In flight")
    COMPLETED = "COMPLETED", _("Completed")


class IdempotencyRecord(models.Model):
    """Stripe-style replay protection for write APIs (invariant 8).

    A key is scoped to its caller (a customer or a merchant) and remembers the request's
    fingerprint and the response, so a replay returns the same answer and a reuse with a
    different payload is refused. Rows are kept at least `IDEMPOTENCY_KEY_TTL_HOURS`.
    """

    scope = models.CharField(max_length=64)
    key = models.CharField(max_length=255)
    request_fingerprint = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16, choices=IdempotencyStatus.choices, default=IdempotencyStatus.IN_FLIGHT
    )
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(db_index=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("idempotency key")
        verbose_name_plural = _("idempotency keys")
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key")
        ]

    def __str__(self):
        return f"{self.scope}:{self.key} ({self.status})"
