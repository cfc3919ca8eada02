# The creator catalogs moved out of `uploads` (issue 16). Their tables stay where
# uploads/migrations/0005_creator_catalogs.py made them, with every row: this migration only
# tells Django's state that the models are now this app's, with Meta.db_table naming the old
# tables. The database is not touched (SeparateDatabaseAndState with no database operations);
# uploads/migrations/0007_creators_moved.py then removes the models from uploads' state, and
# 0002 below follows up on the rows that name the old app (the schedule, the content types).

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
from django.db import migrations, models

STATE = [
    migrations.CreateModel(
        name="Creator",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True,
                    primary_key=True,
                    serialize=False,
                    verbose_name="ID",
                ),
            ),
            (
                "uid",
                models.PositiveBigIntegerField(
                    help_text="Bilibili user id (mid)", unique=True
                ),
            ),
            (
                "provider",
                models.CharField(
                    blank=True,
                    choices=[
                        ("", "Default (from settings)"),
                        ("bilibili", "Bilibili"),
                        ("justoneapi", "JustOneAPI"),
                    ],
                    default="",
                    max_length=16,
                ),
            ),
            (
                "refresh_minutes",
                models.PositiveIntegerField(
                    default=60,
                    validators=[
                        django.core.validators.MinValueValidator(5),
                        django.core.validators.MaxValueValidator(10080),
                    ],
                ),
            ),
            ("name", models.CharField(blank=True, max_length=100)),
            ("face", models.CharField(blank=True, max_length=500)),
            (
                "video_count",
                models.PositiveIntegerField(
                    default=0,
                    help_text="How many videos Bilibili says the user has",
                ),
            ),
            (
                "status",
                models.CharField(
                    choices=[
                        ("new", "Not synced yet"),
                        ("ok", "Up to date"),
                        ("error", "Refresh failed"),
                        ("stopped", "Stopped"),
                    ],
                    default="new",
                    max_length=8,
                ),
            ),
            ("status_reason", models.TextField(blank=True)),
            (
                "failures",
                models.PositiveIntegerField(default=0, help_text="In a row"),
            ),
            (
                "provider_used",
                models.CharField(
                    blank=True,
                    help_text="The endpoint that answered last",
                    max_length=16,
                ),
            ),
            (
                "synced",
                models.DateTimeField(
                    blank=True,
                    help_text="The first full walk of the list ended",
                    null=True,
                ),
            ),
            ("full_synced", models.DateTimeField(blank=True, null=True)),
            ("last_refresh", models.DateTimeField(blank=True, null=True)),
            (
                "next_refresh",
                models.DateTimeField(db_index=True, default=django.utils.timezone.now),
            ),
            ("refreshing_since", models.DateTimeField(blank=True, null=True)),
            ("heartbeat", models.DateTimeField(blank=True, null=True)),
            (
                "worker",
                models.CharField(blank=True, help_text="host:pid", max_length=200),
            ),
            ("created", models.DateTimeField(auto_now_add=True)),
        ],
        options={
            "db_table": "uploads_creator",
            "ordering": ["name", "uid"],
        },
    ),
    migrations.CreateModel(
        name="CreatorVideo",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True,
                    primary_key=True,
                    serialize=False,
                    verbose_name="ID",
                ),
            ),
            ("bvid", models.CharField(max_length=16)),
            ("aid", models.PositiveBigIntegerField()),
            ("title", models.CharField(max_length=200)),
            ("cover", models.CharField(blank=True, max_length=500)),
            ("duration", models.PositiveIntegerField(default=0, help_text="Seconds")),
            ("play", models.BigIntegerField(default=0)),
            ("danmaku", models.BigIntegerField(default=0)),
            ("published", models.DateTimeField()),
            ("category", models.CharField(blank=True, max_length=50)),
            ("raw", models.JSONField(default=dict)),
            ("first_seen", models.DateTimeField(auto_now_add=True)),
            ("updated", models.DateTimeField(auto_now=True)),
            (
                "creator",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="videos",
                    to="creators.creator",
                ),
            ),
        ],
        options={
            "db_table": "uploads_creatorvideo",
            "ordering": ["-published", "-aid"],
            # The names 0005 gave them in the database (Django derives them from the table).
            "indexes": [
                models.Index(
                    fields=["creator", "-published"],
                    name="uploads_cre_creator_aaaacd_idx",
                )
            ],
            "constraints": [
                models.UniqueConstraint(
                    fields=("creator", "bvid"), name="creator_video_unique_bvid"
                )
            ],
        },
    ),
    migrations.CreateModel(
        name="VideoSnapshot",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True,
                    primary_key=True,
                    serialize=False,
                    verbose_name="ID",
                ),
            ),
            ("at", models.DateTimeField()),
            ("play", models.BigIntegerField()),
            ("danmaku", models.BigIntegerField()),
            (
                "video",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="snapshots",
                    to="creators.creatorvideo",
                ),
            ),
        ],
        options={
            "db_table": "uploads_videosnapshot",
            "ordering": ["at"],
            "indexes": [
                models.Index(
                    fields=["video", "at"], name="uploads_vid_video_i_f7b7e8_idx"
                )
            ],
        },
    ),
    migrations.CreateModel(
        name="CreatorSnapshot",
        fields=[
            (
                "id",
                models.BigAutoField(
                    auto_created=True,
                    primary_key=True,
                    serialize=False,
                    verbose_name="ID",
                ),
            ),
            ("at", models.DateTimeField()),
            ("videos", models.PositiveIntegerField()),
            ("play", models.BigIntegerField()),
            ("danmaku", models.BigIntegerField()),
            (
                "creator",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    related_name="snapshots",
                    to="creators.creator",
                ),
            ),
        ],
        options={
            "db_table": "uploads_creatorsnapshot",
            "ordering": ["at"],
            "indexes": [
                models.Index(
                    fields=["creator", "at"], name="uploads_cre_creator_73d248_idx"
                )
            ],
        },
    ),
]


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        # The tables exist from here on, on a new database as on an old one.
        ("uploads", "0006_refresh_catalogs_schedule"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=STATE, database_operations=[]
        )
    ]
