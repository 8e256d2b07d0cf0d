"""Client idempotency keys move into the `api:` namespace (credit.services.idempotency).

Until now the API stored a client's `Idempotency-Key` as sent (or `sha256:<hex>` when longer
than the 100-character column), so a client could take a key the system makes itself
(`credit-balance:<source>`) and break the next purchase. From now on the API stores
`api:<key>` (or `api:sha256:<hex>` when `api:<key>` does not fit). This rewrites the rows
the API wrote before, so a retry straddling the upgrade still finds its purchase, repayment
or refund. Rows the system wrote keep their key: `portal:` and `demo:` ones, merchant
purchases' `payment-code:` ones and the credit balance's `credit-balance:` repayments
(channel CREDIT_BALANCE); a client key that looked like one of these cannot be told apart
and stays as it is. A row whose new key is already taken on its account (a client that
sent both `k` and `api:k`) is left alone rather than failing the upgrade.

Not reversible: the hashed form cannot be undone (reversing is a no-op).
"""

from django.db import migrations


def _rewrite(table: str, scope: str, system: str) -> str:
    new_key = (
        "CASE WHEN length(t.idempotency_key) <= 96 THEN 'api:' || t.idempotency_key "
        "WHEN t.idempotency_key LIKE 'sha256:%%' THEN 'api:' || t.idempotency_key "
        "ELSE 'api:sha256:' || encode(sha256(convert_to(t.idempotency_key, 'UTF8')), 'hex') END"
    )
    return (
        f"UPDATE {table} AS t SET idempotency_key = {new_key} "
        f"WHERE NOT ({system}) AND NOT EXISTS (SELECT 1 FROM {table} AS o "
        f"WHERE o.{scope} = t.{scope} AND o.idempotency_key = {new_key})"
    )


SYSTEM_REPAYMENT = (
    "t.idempotency_key LIKE 'portal:%%' OR t.idempotency_key LIKE 'demo:%%' OR "
    "(t.idempotency_key LIKE 'credit-balance:%%' AND t.channel = 'CREDIT_BALANCE')"
)
SYSTEM_PURCHASE = (
    "t.idempotency_key LIKE 'portal:%%' OR t.idempotency_key LIKE 'demo:%%' OR "
    "t.idempotency_key LIKE 'payment-code:%%'"
)
SYSTEM_REFUND = "t.idempotency_key LIKE 'demo:%%'"


class Migration(migrations.Migration):
    dependencies = [("credit", "0017_account_field_labels")]

    operations = [
        migrations.RunSQL(
            _rewrite("credit_repayment", "account_id", SYSTEM_REPAYMENT), migrations.RunSQL.noop
        ),
        migrations.RunSQL(
            _rewrite("credit_purchase", "account_id", SYSTEM_PURCHASE), migrations.RunSQL.noop
        ),
        migrations.RunSQL(
            _rewrite("credit_refund", "purchase_id", SYSTEM_REFUND), migrations.RunSQL.noop
        ),
    ]
