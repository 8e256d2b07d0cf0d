"""The database guards the ledger: entries balance, and journal and audit rows are append-only."""

from django.db import migrations

BALANCE_CHECK = """
CREATE FUNCTION credit_journal_entry_balances() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    -- Checks every entry the statement touched, with all of its lines; services insert the
    -- lines of an entry in one statement, and set-based jobs insert many entries at once.
    SELECT l.entry_id, SUM(l.debit) - SUM(l.credit) AS imbalance INTO bad
      FROM credit_journalline l
     WHERE l.entry_id IN (SELECT DISTINCT entry_id FROM new_lines)
     GROUP BY l.entry_id
    HAVING SUM(l.debit) <> SUM(l.credit)
     LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance (debits - credits = %)', bad.entry_id, bad.imbalance
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credit_journal_entry_balances
    AFTER INSERT ON credit_journalline
    REFERENCING NEW TABLE AS new_lines
    FOR EACH STATEMENT EXECUTE FUNCTION credit_journal_entry_balances();

CREATE FUNCTION credit_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credit_journalentry_append_only BEFORE UPDATE OR DELETE ON credit_journalentry
    FOR EACH ROW EXECUTE FUNCTION credit_refuse_change();
CREATE TRIGGER credit_journalline_append_only BEFORE UPDATE OR DELETE ON credit_journalline
    FOR EACH ROW EXECUTE FUNCTION credit_refuse_change();
CREATE TRIGGER credit_limitchange_append_only BEFORE UPDATE OR DELETE ON credit_limitchange
    FOR EACH ROW EXECUTE FUNCTION credit_refuse_change();
"""

DROP = """
DROP TRIGGER credit_limitchange_append_only ON credit_limitchange;
DROP TRIGGER credit_journalline_append_only ON credit_journalline;
DROP TRIGGER credit_journalentry_append_only ON credit_journalentry;
DROP FUNCTION credit_refuse_change();
DROP TRIGGER credit_journal_entry_balances ON credit_journalline;
DROP FUNCTION credit_journal_entry_balances();
"""


class Migration(migrations.Migration):
    dependencies = [("credit", "0001_initial")]

    operations = [migrations.RunSQL(BALANCE_CHECK, DROP)]
