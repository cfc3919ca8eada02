"""Collections (合集): a template may name a season and a section; each archive uploaded with it
joins that section once it has its cid. The template form checks the section is the season's.

A job's add is tried on each review poll (review.py) until it succeeds; UploadJob.season_added
marks it done. A failure leaves the job done, its message in job.error, and is retried. With
only a season given, the archive goes to the season's first section (a season without
sections has one, "正片").

Reference: bilibili-API-collect docs/creativecenter/season.md; bilibili-2026.md "Collections".
"""

from __future__ import annotations

import logging
from typing import Any

from django.core.cache import cache
from django.utils import timezone

from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, seasons, submit
from uploads.models import UploadJob

logger = logging.getLogger(__name__)

# Not Bilibili's documented code: the fake's (and, we assume, the site's) "already in a
# season" answer, which means an earlier add went through though its answer was lost.
ALREADY_ADDED_CODES = frozenset({20080})
ERROR_PREFIX = "Not added to the collection yet"


def _int(value: Any) -> int | None:
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def wanted(job: UploadJob) -> bool:
    """The job's template names a collection and the archive has not joined it yet."""
    params = job.params or {}
    wants = _int(params.get("section_id")) or _int(params.get("season_id"))
    return bool(wants) and job.season_added is None


def account_seasons(credential: dict[str, Any]) -> list[seasons.Season] | None:
    """The account's seasons, or None if Bilibili cannot be asked now."""
    try:
        return seasons.list_seasons(credential)
    except (BilibiliError, BilibiliUnavailable) as exc:
        logger.info("Could not list the account's collections: %s", exc)
        return None


SEASONS_CACHE_SECONDS = 300


def seasons_for_page(account: Any) -> list[seasons.Season] | None:
    """The account's seasons for the template page's picker, cached a few minutes (the page
    is rendered on every account change); None if they cannot be had now."""
    if account is None or not account.credential:
        return None
    key = f"uploads:seasons:{account.pk}"
    found = cache.get(key)
    if found is None:
        found = account_seasons(account.credential)
        if found is not None:
            cache.set(key, found, SEASONS_CACHE_SECONDS)
    return found


def check_section(
    credential: dict[str, Any], season_id: int | None, section_id: int | None
) -> str | None:
    """The field at fault ("season_id": the account has no such season; "section_id": the
    section is not the season's), or None if they fit or Bilibili cannot be asked now (the
    job's add will say so)."""
    if not season_id:
        return None
    found = account_seasons(credential)
    if found is None:
        return None
    season = next((s for s in found if s.id == season_id), None)
    if season is None:
        return "season_id"
    if section_id and section_id not in {s.id for s in season.sections}:
        return "section_id"
    return None


def _section(job: UploadJob, credential: dict[str, Any]) -> int:
    """The section the job's archive joins. Raises BilibiliError when it cannot be found."""
    params = job.params or {}
    if section_id := _int(params.get("section_id")):
        return section_id
    season_id = _int(params.get("season_id"))
    season = next(
        (s for s in seasons.list_seasons(credential) if s.id == season_id), None
    )
    if season is None or not season.sections:
        raise BilibiliError(-404, f"the account has no collection {season_id}")
    return season.sections[0].id


def add(job: UploadJob, credential: dict[str, Any], state: submit.ArchiveState) -> bool:
    """Add the job's archive to its section if it has a cid now; True if the job changed."""
    if not state.cids or job.aid is None:
        return False
    try:
        seasons.add_episode(
            credential,
            _section(job, credential),
            job.aid,
            state.cids[0],
            job.display_title,
        )
    except BilibiliError as exc:
        if exc.code not in ALREADY_ADDED_CODES:
            return _failed(job, str(exc))
    except BilibiliUnavailable as exc:
        return _failed(job, str(exc))
    job.season_added = timezone.now()
    fields = ["season_added", "updated"]
    if job.error.startswith(ERROR_PREFIX):
        job.error = ""
        fields.append("error")
    job.save(update_fields=fields)
    logger.info("Upload job %s: archive %s joined its collection", job.pk, job.bvid)
    return True


def _failed(job: UploadJob, reason: str) -> bool:
    message = f"{ERROR_PREFIX} (retried on the next check): {reason}"
    logger.warning("Upload job %s: %s", job.pk, message)
    if job.error == message:
        return False
    job.error = message
    job.save(update_fields=("error", "updated"))
    return True
