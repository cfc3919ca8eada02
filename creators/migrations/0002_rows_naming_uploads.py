# Rows that named the creator catalogs by their old app, `uploads`, name `creators` now:
# - the django-q2 schedule uploads/migrations/0006 made runs `creators.tasks.refresh_catalogs`
#   (the old dotted path no longer imports);
# - the content types of the four models move to app label `creators`, so the permissions and
#   admin log entries that point at them follow (a new content type would leave them behind).
# Both are undone by migrating back, so 0006's unschedule still finds its row.

from django.db import migrations

OLD_FUNC = "uploads.tasks.refresh_catalogs"
NEW_FUNC = "creators.tasks.refresh_catalogs"
MODELS = ("creator", "creatorvideo", "videosnapshot", "creatorsnapshot")


def _relabel(apps, old_label, new_label):
    ContentType = apps.get_model("contenttypes", "ContentType")
    # A content type already under the new label (made by an earlier run) keeps its rows; the
    # old one is then left as it is for `remove_stale_contenttypes`, never deleted here.
    taken = list(
        ContentType.objects.filter(app_label=new_label, model__in=MODELS).values_list(
            "model", flat=True
        )
    )
    ContentType.objects.filter(app_label=old_label, model__in=MODELS).exclude(
        model__in=taken
    ).update(app_label=new_label)


def forwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=OLD_FUNC).update(func=NEW_FUNC)
    _relabel(apps, "uploads", "creators")


def backwards(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    Schedule.objects.filter(func=NEW_FUNC).update(func=OLD_FUNC)
    _relabel(apps, "creators", "uploads")


class Migration(migrations.Migration):
    dependencies = [
        ("creators", "0001_initial"),
        ("uploads", "0006_refresh_catalogs_schedule"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(forwards, backwards)]
