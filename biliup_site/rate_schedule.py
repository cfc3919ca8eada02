"""The upload schedule: rate caps by the time of day ("full speed 01:00–08:00, 2 MiB/s in the
evening"), as the configuration stores it and as a person types it.

Stored (and sent through the API) as a list of rules, {"start": "HH:MM", "end": "HH:MM",
"rate": KiB/s}, rate 0 meaning no limit; a rule whose end is before its start runs past
midnight. The first rule that holds at a time wins; outside every rule the configuration's
`upload_rate_limit` does. On the settings page the same rules are lines of text,
"18:00-23:30 2048".
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext

MAX_RULES = 24
MAX_RATE = 10_000_000  # KiB/s: 10 GB/s, past any line
MIN_RATE = 64  # KiB/s: below this a 5 MB chunk takes over a minute and times out
_CLOCK = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_LINE = re.compile(r"\s*(\S+)\s*[-–~]\s*(\S+)\s+(\d+)\s*")


def _minutes(clock: str) -> int:
    match = _CLOCK.fullmatch(clock)
    if match is None:
        raise ValidationError(
            gettext("%(value)s is not a time of day such as 18:30.")
            % {"value": clock[:20]}
        )
    return int(match[1]) * 60 + int(match[2])


def check_rate(rate: int) -> None:
    """A cap in KiB/s: 0 (no limit) or MIN_RATE..MAX_RATE."""
    if rate != 0 and not MIN_RATE <= rate <= MAX_RATE:
        raise ValidationError(
            gettext("A rate is 0 (no limit) or %(min)d to %(max)d KiB/s, not %(rate)d.")
            % {"min": MIN_RATE, "max": MAX_RATE, "rate": rate}
        )


def clean(value: Any) -> list[dict[str, Any]]:
    """The rules from the API's list or the page's text; ValidationError says what is wrong."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        value = [_rule_from_line(line) for line in value.splitlines() if line.strip()]
    if not isinstance(value, list):
        raise ValidationError(gettext("Expected a list of rules."))
    if len(value) > MAX_RULES:
        raise ValidationError(gettext("At most %(n)d rules.") % {"n": MAX_RULES})
    rules = []
    for rule in value:
        if not isinstance(rule, dict) or set(rule) != {"start", "end", "rate"}:
            raise ValidationError(
                gettext(
                    'Each rule is {"start": "HH:MM", "end": "HH:MM", "rate": KiB/s}.'
                )
            )
        start, end, rate = rule["start"], rule["end"], rule["rate"]
        if not isinstance(start, str) or not isinstance(end, str):
            raise ValidationError(gettext("start and end are times such as 18:30."))
        if type(rate) is not int or rate < 0:
            raise ValidationError(
                gettext("rate is a whole number of KiB/s, 0: no limit.")
            )
        if _minutes(start) == _minutes(end):
            raise ValidationError(
                gettext("The rule %(start)s-%(end)s starts where it ends.")
                % {"start": start, "end": end}
            )
        check_rate(rate)
        rules.append({"start": start, "end": end, "rate": rate})
    return rules


def _rule_from_line(line: str) -> dict[str, Any]:
    match = _LINE.fullmatch(line)
    if match is None:
        raise ValidationError(
            gettext(
                "%(line)s: write a rule as START-END RATE, such as 18:00-23:30 2048"
                " (KiB/s, 0: no limit)."
            )
            % {"line": line.strip()[:40]}
        )
    return {"start": match[1], "end": match[2], "rate": int(match[3])}


def as_text(rules: Any) -> str:
    """The rules as the page's lines of text."""
    if isinstance(rules, str):
        return rules  # a bound form's text, shown again with its error
    return "\n".join(f"{r['start']}-{r['end']} {r['rate']}" for r in rules or [])


def rate_at(rules: list[dict[str, Any]], when: datetime) -> int | None:
    """The rate of the first rule holding at `when` (its local time of day), or None."""
    now = when.hour * 60 + when.minute
    for rule in rules:
        start, end = _minutes(rule["start"]), _minutes(rule["end"])
        inside = start <= now < end if start < end else (now >= start or now < end)
        if inside:
            return int(rule["rate"])
    return None
