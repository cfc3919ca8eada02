from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client

from accounts.models import BilibiliAccount
from tests.factories import log_in_by_tv_qr, make_account, make_streamer, make_template
from uploads.models import UploadTemplate

pytestmark = pytest.mark.django_db


def field_html(page: str, name: str) -> str:
    """The markup of one field: its label, help, errors and input, up to the next field."""
    start = page.index(f'id="field-{name}"')
    ends = [
        page.find(marker, start + 1)
        for marker in ('<div class="field', "</fieldset>", "</details>")
    ]
    return page[start : min(e for e in ends if e != -1)]


def form_data(**overrides: Any) -> dict[str, Any]:
    data = {
        "template_name": "录播",
        "title": "{streamer} %Y-%m-%d {title}",
        "part_title": "P%H",
        "tag": "录播, 游戏",
        "user_cookie": "",
        "uploader": "",
        "lines": "",
        "tid": "171",
        "copyright": "1",
        "source": "",
        "desc": "自动上传",
        "dynamic": "",
        "cover": "",
        "no_reprint": "on",
        "dtime": "",
        "credits": "[]",
        "extra_fields": "{}",
        "submit_api": "",
    }
    return data | overrides


# The list


def test_empty_page_explains_templates_and_asks_for_an_account_first(
    browser: Client,
) -> None:
    page = browser.get("/templates/").content.decode()
    assert "No upload templates yet." in page
    assert "how recordings become a Bilibili archive" in page
    assert 'href="/accounts/"' in page
    assert 'href="/templates/new"' in page


def test_with_an_account_the_empty_state_does_not_ask_for_one(browser: Client) -> None:
    make_account("a.json")
    page = browser.get("/templates/").content.decode()
    assert "No upload templates yet." in page
    assert "You need a Bilibili account first" not in page


def test_templates_are_listed_with_their_settings(browser: Client) -> None:
    account = make_account("main.json")
    template = make_template(
        "游戏录播",
        title="{streamer} %m-%d",
        tid=17,
        tags=["录播", "单机"],
        account=account,
        uploader=UploadTemplate.Uploader.OPENPLATFORM,
        line="alia",
    )
    make_streamer(upload_template=template)
    page = browser.get("/templates/").content.decode()
    assert f'id="template-{template.pk}"' in page
    for text in (
        "游戏录播",
        "{streamer} %m-%d",
        "Category 17",
        "录播, 单机",
        "main.json",
        "Open Platform",
        "line alia",
        "used by 1 streamer",
    ):
        assert text in page, text
    assert f'href="/templates/{template.pk}/"' in page
    assert "keep recording, without a template" in page  # the delete asks first


# Create and edit


def test_it_creates_a_template(browser: Client) -> None:
    account = make_account("main.json")
    r = browser.post(
        "/templates/new",
        form_data(
            user_cookie="main.json",
            uploader="upos",
            lines="tx",
            open_elec="on",
            extra_fields='{"is_360": 0}',
        ),
    )
    assert r.status_code == 302
    assert r["Location"] == "/templates/"
    t = UploadTemplate.objects.get()
    assert (t.template_name, t.title, t.part_title, t.tid) == (
        "录播",
        "{streamer} %Y-%m-%d {title}",
        "P%H",
        171,
    )
    assert t.tags == ["录播", "游戏"]
    assert (t.account, t.uploader, t.line) == (account, "upos", "tx")
    assert (t.no_reprint, t.open_elec, t.dolby) == (True, True, False)
    assert t.extra_fields == {"is_360": 0}
    page = browser.get("/templates/").content.decode()
    assert "Upload template “录播” saved." in page


def test_the_new_form_is_grouped_and_explains_title_variables(
    browser: Client,
) -> None:
    make_account("main.json")
    page = browser.get("/templates/new").content.decode()
    for legend in (
        "Basics",
        "Partition",
        "Description",
        "Copyright",
        "Publishing",
        "Switches",
    ):
        assert f"<legend>{legend}</legend>" in page
    assert 'type="datetime-local" name="dtime"' in field_html(page, "dtime")
    advanced = page[page.index('<details class="card advanced"') :]
    for name in ("credits", "extra_fields-key", "submit_api"):
        assert f'name="{name}"' in advanced.split("</details>")[0]
    help_box = page[page.index('id="title-variables"') :].split("</aside>")[0]
    for variable in ("{title}", "{streamer}", "{url}", "%Y", "%H", "%%", "80"):
        assert variable in help_box, variable
    account = field_html(page, "user_cookie")
    assert '<select name="user_cookie"' in account
    assert '<option value="main.json">' in account
    assert 'hx-get="/templates/categories"' in account


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"tag": ",".join(f"t{i}" for i in range(11))},
            "tag",
            "Bilibili takes at most 10 tags.",
        ),
        ({"copyright": "2"}, "source", "A repost (copyright 2) needs its source."),
        ({"lines": "no line!"}, "lines", "Use AUTO or a line name"),
        ({"user_cookie": "../gone.json"}, "user_cookie", "Use an account name"),
        ({"extra_fields": "[1]"}, "extra_fields", "Use a JSON object"),
    ],
)
def test_field_errors_are_shown_next_to_their_field(
    browser: Client, overrides: dict[str, str], field: str, message: str
) -> None:
    r = browser.post("/templates/new", form_data(**overrides))
    assert r.status_code == 200
    html = field_html(r.content.decode(), field)
    assert 'class="errorlist' in html
    assert message in html
    assert not UploadTemplate.objects.exists()


def test_a_duplicate_name_is_refused(browser: Client) -> None:
    make_template("录播")
    r = browser.post("/templates/new", form_data())
    assert "exists already" in field_html(r.content.decode(), "template_name")
    assert UploadTemplate.objects.count() == 1


def test_it_edits_a_template(browser: Client) -> None:
    make_account("main.json")
    template = make_template(tags=["旧"], desc="旧简介", line="bda2")
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    assert 'value="默认模板"' in field_html(page, "template_name")
    assert 'value="bda2"' in field_html(page, "lines")
    assert "旧简介" in field_html(page, "desc")

    r = browser.post(
        f"/templates/{template.pk}/",
        form_data(
            template_name="默认模板",
            tag="新",
            lines="",
            copyright="2",
            source="https://live.bilibili.com/1",
        ),
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert (template.tags, template.line, template.copyright, template.source) == (
        ["新"],
        "",
        2,
        "https://live.bilibili.com/1",
    )
    assert UploadTemplate.objects.count() == 1


def test_an_unknown_template_is_a_404(browser: Client) -> None:
    assert browser.get("/templates/999/").status_code == 404


# Delete


def test_delete_without_javascript_redirects_with_a_message(browser: Client) -> None:
    template = make_template()
    streamer = make_streamer(upload_template=template)
    r = browser.post(f"/templates/{template.pk}/delete")
    assert r.status_code == 302 and r["Location"] == "/templates/"
    assert not UploadTemplate.objects.exists()
    streamer.refresh_from_db()
    assert streamer.upload_template is None  # it keeps recording, without a template
    assert "“默认模板” deleted" in browser.get("/templates/").content.decode()


def test_delete_with_htmx_swaps_the_list(htmx: Client) -> None:
    keep = make_template("keep")
    gone = make_template("gone")
    body = htmx.post(f"/templates/{gone.pk}/delete").content.decode()
    assert body.lstrip().startswith('<ul id="template-rows"')
    assert f'id="template-{keep.pk}"' in body
    assert f'id="template-{gone.pk}"' not in body
    assert list(UploadTemplate.objects.all()) == [keep]
    body = htmx.post(f"/templates/{keep.pk}/delete").content.decode()
    assert "No upload templates yet." in body


def test_delete_only_takes_post(browser: Client) -> None:
    template = make_template()
    assert browser.get(f"/templates/{template.pk}/delete").status_code == 405
    assert UploadTemplate.objects.exists()


# The category picker, against the fake Bilibili


def test_the_picker_lists_the_accounts_categories(htmx: Client, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    body = htmx.get(
        "/templates/categories", {"account": account.value, "tid": "17"}
    ).content.decode()
    assert body.lstrip().startswith('<div id="tid-field"')
    assert '<select name="tid"' in body
    assert '<optgroup label="游戏">' in body
    assert '<optgroup label="知识">' in body
    assert re.search(
        r'<option value="17" title="[^"]+" selected>单机游戏</option>', body
    )
    assert 'title="回答你的十万个为什么"' in body
    assert (
        "以所有平台的单机或联机游戏为主的视频内容" in body
    )  # the chosen one's description
    assert 'type="number"' not in body
    # What the account select sends when it changes: its own name, and the tid it includes.
    body = htmx.get(
        "/templates/categories", {"user_cookie": account.value, "tid": "17"}
    ).content.decode()
    assert re.search(r'<option value="17" title="[^"]+" selected>', body)


def test_a_tid_not_in_the_list_is_kept(htmx: Client, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    body = htmx.get(
        "/templates/categories", {"account": account.value, "tid": "9999"}
    ).content.decode()
    assert re.search(r'<option value="9999" selected>', body)


def test_the_edit_page_shows_the_picker_for_the_templates_account(
    browser: Client, fakebili: Any
) -> None:
    account = log_in_by_tv_qr(fakebili)
    template = make_template(account=account, tid=201)
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    assert re.search(
        r'<option value="201" title="[^"]*" selected>科学科普</option>', page
    )
    # The select posts like the number input did.
    r = browser.post(
        f"/templates/{template.pk}/",
        form_data(template_name="默认模板", user_cookie=account.value, tid="95"),
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert template.tid == 95


def test_an_account_without_a_login_falls_back_to_a_number(
    htmx: Client, fakebili: Any
) -> None:
    make_account("empty.json")
    body = htmx.get(
        "/templates/categories", {"account": "empty.json", "tid": "171"}
    ).content.decode()
    assert "empty.json has no login yet" in body
    assert '<input type="number" name="tid"' in body and 'value="171"' in body
    assert "<select" not in body


def test_an_expired_login_is_reported_and_marked(htmx: Client, fakebili: Any) -> None:
    account = log_in_by_tv_qr(fakebili)
    fakebili.expire_account(account.mid)
    body = htmx.get(
        "/templates/categories", {"account": account.value, "tid": "171"}
    ).content.decode()
    assert "Bilibili refused the category list" in body and "-101" in body
    assert '<input type="number" name="tid"' in body
    account.refresh_from_db()
    assert account.status == BilibiliAccount.Status.EXPIRED
    # Known expired now: not asked again.
    body = htmx.get(
        "/templates/categories", {"account": account.value}
    ).content.decode()
    assert "has expired: log it in again" in body


def test_bilibili_failing_is_shown_and_the_form_still_saves(
    browser: Client, fakebili: Any
) -> None:
    account = log_in_by_tv_qr(fakebili)
    template = make_template(account=account, tid=171)
    fakebili.inject("/x/vupre/web/archive/pre", kind="http_status", status=500)
    page = browser.get(f"/templates/{template.pk}/").content.decode()
    assert "Bilibili could not be reached" in page
    assert '<input type="number" name="tid" id="id_tid" min="1" value="171"' in page
    r = browser.post(
        f"/templates/{template.pk}/",
        form_data(template_name="默认模板", user_cookie=account.value, tid="172"),
    )
    assert r.status_code == 302
    template.refresh_from_db()
    assert template.tid == 172


def test_without_an_account_the_picker_asks_for_one(browser: Client) -> None:
    page = browser.get("/templates/new").content.decode()
    assert "Choose a Bilibili account to pick from its categories." in page
    assert '<input type="number" name="tid"' in page
    assert "No Bilibili account yet" in page
