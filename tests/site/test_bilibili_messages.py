"""The table from Bilibili's codes to a sentence, a next step and what must change."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.utils import translation

from biliup_site import bilibili_messages
from biliup_site.bilibili import BilibiliError
from biliup_site.bilibili_messages import TABLE, explain

CJK = re.compile(r"[\u4e00-\u9fff]")
# The codes the protocol docs name (§1, §8, bilibili-2026.md) and the brief asked for.
NAMED = (
    -101, -111, -2, -658, -352, -412, -799, -702,
    601, 21566, 137022, 21590, 21006, 21001, 21103, 16025, 86038, 61000,
)  # fmt: skip


def test_it_knows_the_codes_users_meet() -> None:
    assert set(NAMED) <= set(TABLE)


@pytest.mark.parametrize("code", sorted(TABLE))
def test_every_code_reads_in_chinese_and_in_english(code: int) -> None:
    with translation.override("en"):
        english = explain(code, "参数错误")
    with translation.override("zh-hans"):
        chinese = explain(code, "参数错误")
    assert english.known and chinese.known
    assert english.fix == chinese.fix
    assert english.fix in ("template", "account", "wait", "none")
    for part in ("sentence", "next_step"):
        said, translated = getattr(english, part), getattr(chinese, part)
        assert said and not CJK.search(said), (code, part, said)
        assert translated != said and CJK.search(translated), (code, part)
    assert (chinese.code, chinese.message) == (code, "参数错误")


def test_an_unknown_code_keeps_bilibilis_own_words() -> None:
    with translation.override("zh-hans"):
        said = explain(123456, "稿件标题含有敏感词")
    assert not said.known and said.fix == "none"
    assert "稿件标题含有敏感词" in said.sentence and "123456" in said.sentence
    assert CJK.search(said.next_step)
    with translation.override("en"):
        said = explain(123456, "稿件标题含有敏感词")
    assert said.sentence == "Bilibili refused: 稿件标题含有敏感词 (code 123456)."
    assert said.next_step.startswith("Retry later.")


def test_a_message_that_only_repeats_the_code_is_dropped() -> None:
    with translation.override("en"):
        assert explain(777, "777").sentence == "Bilibili refused with code 777."
        assert explain(-352, "-352").message == ""


def test_the_explanation_reads_as_one_line() -> None:
    with translation.override("en"):
        said = explain(21103, "标题过长")
    assert str(said) == (
        "The title is too long: Bilibili takes at most 80 characters. "
        "Shorten the template's title, then retry. (code 21103)"
    )
    with translation.override("zh-hans"):
        assert str(explain(21103)) == (
            "标题过长：B站最多允许 80 个字符。请缩短模板的标题，然后重试。（错误码 21103）"
        )
        unknown = explain(5, "未知")
        assert str(unknown) == f"{unknown.sentence} {unknown.next_step}"
    assert said.fix == "template"


@pytest.mark.parametrize(
    ("code", "fix"),
    [(-101, "account"), (21006, "template"), (16025, "template"), (601, "wait")],
)
def test_the_fix_names_what_must_change(code: int, fix: str) -> None:
    assert explain(code).fix == fix


def test_a_stored_reason_is_in_the_sites_language_with_the_code(settings: Any) -> None:
    exc = BilibiliError(-101, "账号未登录")
    settings.LANGUAGE_CODE = "zh-hans"
    with translation.override("en"):  # the reader's language does not matter
        assert (
            bilibili_messages.reason(exc) == "B站表示此账号未登录。（B站错误码 -101）"
        )
    settings.LANGUAGE_CODE = "en"
    assert bilibili_messages.reason(exc) == (
        "Bilibili says this account is not logged in. (Bilibili code -101)"
    )
