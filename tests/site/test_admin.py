from __future__ import annotations

import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from tests.factories import make_account, make_session, make_streamer, make_template
from uploads.models import UploadChunk, UploadFile, UploadJob

pytestmark = pytest.mark.django_db

OURS = ("biliup_site", "accounts", "recorder", "uploads")


@pytest.fixture
def admin_client_with_rows(alice: object) -> Client:
    account = make_account(
        credential={
            "cookie_info": {"cookies": [{"name": "SESSDATA", "value": "s3cret"}]}
        }
    )
    make_session(make_streamer(upload_template=make_template(account=account)), files=1)
    job = UploadJob.objects.create(account=account)
    file = UploadFile.objects.create(job=job, position=0, path="/rec/a.flv", size=10)
    UploadChunk.objects.create(file=file, part_number=1, start=0, end=10)
    client = Client()
    client.force_login(alice)  # type: ignore[arg-type]
    return client


def test_every_model_has_working_admin_pages(admin_client_with_rows: Client) -> None:
    models = [m for m in admin.site._registry if m._meta.app_label in OURS]
    assert len(models) >= 11
    for model in models:
        opts = model._meta
        changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
        assert admin_client_with_rows.get(changelist).status_code == 200, changelist
        obj = model.objects.first()
        if obj is not None:
            change = reverse(
                f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]
            )
            response = admin_client_with_rows.get(change)
            assert response.status_code == 200, change
            assert b"s3cret" not in response.content


def test_the_admin_needs_staff(anon: Client) -> None:
    assert anon.get("/admin/recorder/streamer/").status_code == 302
