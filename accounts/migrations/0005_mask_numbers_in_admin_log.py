"""The admin's log ("Recent actions", object history) kept `str(user)` as it was when written:
the full number. Mask the numbers already there, as `phone_masked` does for new rows."""

import re

from django.db import migrations

# +86 and 11 digits (E.164, as `User.__str__` returned) or the bare 11 digits.
NUMBER = re.compile(r"(?:\+86)?(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def mask_logged_numbers(apps, schema_editor):
    LogEntry = apps.get_model("admin", "LogEntry")
    changed = []
    for entry in LogEntry.objects.only("pk", "object_repr").iterator(chunk_size=2000):
        masked = NUMBER.sub(r"\1****\2", entry.object_repr)
        if masked != entry.object_repr:
            entry.object_repr = masked
            changed.append(entry)
    LogEntry.objects.bulk_update(changed, ["object_repr"], batch_size=2000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0004_pii_reveal_and_second_factor_reset"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [migrations.RunPython(mask_logged_numbers, migrations.RunPython.noop)]
