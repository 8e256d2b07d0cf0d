"""Customer API tokens move from DRF's authtoken (the raw token in a column) to django-rest-knox
(a digest only): drop the old table, so no raw token outlives the upgrade, and its content
types (and so its permissions, e.g. the auditor's view of the token list). Customers sign in
again through POST /api/v1/auth/token/. Reverse: nothing (the raw tokens are gone for good).
"""

from django.db import migrations


def stale_content_types_delete(apps, schema_editor):
    content_type = apps.get_model("contenttypes", "ContentType")
    content_type.objects.filter(app_label="authtoken").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_staff_roles"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("admin", "0003_logentry_add_action_flag_choices"),
    ]

    operations = [
        migrations.RunSQL(
            "DROP TABLE IF EXISTS authtoken_token CASCADE", reverse_sql=migrations.RunSQL.noop
        ),
        migrations.RunPython(stale_content_types_delete, migrations.RunPython.noop),
    ]
