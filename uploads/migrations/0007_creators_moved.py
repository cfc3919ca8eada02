# The creator catalogs' models are the `creators` app's now (creators/migrations/0001_initial.py
# took them over, tables and rows as they are). Here they leave uploads' state only: deleting
# them from the database would delete every followed user and video, so nothing is run there.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("uploads", "0006_refresh_catalogs_schedule"),
        ("creators", "0001_initial"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                # Those that point at another first: a model is deleted once nothing refers to it.
                migrations.DeleteModel(name="VideoSnapshot"),
                migrations.DeleteModel(name="CreatorSnapshot"),
                migrations.DeleteModel(name="CreatorVideo"),
                migrations.DeleteModel(name="Creator"),
            ],
            database_operations=[],
        )
    ]
