"""The database ties the verification purchase maximum to the open verification: an account's
`verification_purchase_max` is set iff it has an OPEN VerificationChallenge, checked at commit
(a deferred constraint trigger on both tables; the services change both in one transaction).
check_ledger's invariant 9 proves the same over the whole book."""

from django.db import migrations

AGREES = """
CREATE FUNCTION risk_verification_purchase_max_agrees() RETURNS trigger AS $$
DECLARE
    acc bigint;
    has_max boolean;
    has_open boolean;
BEGIN
    IF TG_TABLE_NAME = 'credit_creditaccount' THEN
        acc := NEW.id;
    ELSE
        acc := NEW.account_id;
    END IF;
    SELECT a.verification_purchase_max IS NOT NULL INTO has_max
      FROM credit_creditaccount a WHERE a.id = acc;
    IF NOT FOUND THEN
        RETURN NULL;
    END IF;
    has_open := EXISTS (SELECT 1 FROM risk_verificationchallenge v
                         WHERE v.account_id = acc AND v.status = 'OPEN');
    IF has_max <> has_open THEN
        RAISE EXCEPTION 'account %: verification purchase maximum % but % open verification',
            acc, CASE WHEN has_max THEN 'set' ELSE 'not set' END,
            CASE WHEN has_open THEN 'an' ELSE 'no' END
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER risk_verification_purchase_max_agrees_opened
    AFTER INSERT ON credit_creditaccount
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (NEW.verification_purchase_max IS NOT NULL)
    EXECUTE FUNCTION risk_verification_purchase_max_agrees();
CREATE CONSTRAINT TRIGGER risk_verification_purchase_max_agrees_account
    AFTER UPDATE OF verification_purchase_max ON credit_creditaccount
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    WHEN (OLD.verification_purchase_max IS DISTINCT FROM NEW.verification_purchase_max)
    EXECUTE FUNCTION risk_verification_purchase_max_agrees();
CREATE CONSTRAINT TRIGGER risk_verification_purchase_max_agrees_challenge
    AFTER INSERT OR UPDATE OF status ON risk_verificationchallenge
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW
    EXECUTE FUNCTION risk_verification_purchase_max_agrees();
"""

DROP = """
DROP TRIGGER risk_verification_purchase_max_agrees_challenge ON risk_verificationchallenge;
DROP TRIGGER risk_verification_purchase_max_agrees_opened ON credit_creditaccount;
DROP TRIGGER risk_verification_purchase_max_agrees_account ON credit_creditaccount;
DROP FUNCTION risk_verification_purchase_max_agrees();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("credit", "0010_account_verification_purchase_max"),
        ("risk", "0008_risk_rule_versions"),
    ]

    operations = [migrations.RunSQL(AGREES, DROP)]
