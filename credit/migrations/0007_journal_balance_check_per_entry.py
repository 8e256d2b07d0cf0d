"""The journal balance trigger looks up only the entries the statement touched.

The first version joined the statement's lines to the whole journal, and PostgreSQL chose a
merge join over every line ever posted: each purchase paid for the size of the journal
(3 ms at 7,000 lines, growing without end). Summing each touched entry through the entry_id
index (LATERAL) costs the same at any journal size.
"""

from django.db import migrations

# The function with {imbalance}: the query that finds an entry of the statement that does not
# balance (columns entry_id, imbalance).
FUNCTION = """
CREATE OR REPLACE FUNCTION credit_journal_entry_balances() RETURNS trigger AS $$
DECLARE
    bad record;
BEGIN
    -- Checks every entry the statement touched, with all of its lines; services insert the
    -- lines of an entry in one statement, and set-based jobs insert many entries at once.
    {imbalance} INTO bad;
    IF FOUND THEN
        RAISE EXCEPTION 'journal entry % does not balance (debits - credits = %)', bad.entry_id, bad.imbalance
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

PER_ENTRY = """
    SELECT n.entry_id, s.debits - s.credits AS imbalance
      FROM (SELECT DISTINCT entry_id FROM new_lines) n
      CROSS JOIN LATERAL (SELECT SUM(l.debit) AS debits, SUM(l.credit) AS credits
                            FROM credit_journalline l
                           WHERE l.entry_id = n.entry_id) s
     WHERE s.debits <> s.credits
     LIMIT 1"""

WHOLE_JOURNAL = """
    SELECT l.entry_id, SUM(l.debit) - SUM(l.credit) AS imbalance
      FROM credit_journalline l
     WHERE l.entry_id IN (SELECT DISTINCT entry_id FROM new_lines)
     GROUP BY l.entry_id
    HAVING SUM(l.debit) <> SUM(l.credit)
     LIMIT 1"""


class Migration(migrations.Migration):
    dependencies = [("credit", "0006_idempotency_rows_are_finished")]

    operations = [
        migrations.RunSQL(
            FUNCTION.format(imbalance=PER_ENTRY), FUNCTION.format(imbalance=WHOLE_JOURNAL)
        )
    ]
