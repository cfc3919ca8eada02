"""Creator catalogs: the videos that followed Bilibili users publish, refreshed on a schedule.

A followed user (Creator) is refreshed when due: by its own interval, sooner while one of our
uploads to that account waits to be seen (verify own uploads), later after failures (backoff).
django-q2's scheduler runs dispatch() every minute; dispatch() claims due users, at most
CATALOG_CONCURRENCY at once over every machine, and hands each to a worker task that calls
refresh(). The first refresh walks the whole list; later ones stop at the first page holding a
video already known, and a full walk every CATALOG_FULL_SYNC_HOURS brings older videos' plays
up to date. Each change of plays or danmaku is kept as a snapshot, for trends.

Providers: Bilibili's app list (bilibili.space.app_page), falling back to the web WBI list when
the app list fails at once; both through a session paced per host (bilibili/pace.py). Bilibili's
risk control (-352, -412, -799) stops the refresh where it is, with the code, the page and when
it tries again in the reason, and holds that host back for every refresh until then; or JustOneAPI (bilibili.justoneapi.user_videos) with the configuration's
token. JustOneAPI's business codes: 301 is retried with backoff inside the refresh; 302 (rate
limit) holds every JustOneAPI refresh back for CATALOG_BACKOFF_SECONDS; 303 (daily quota) until
the next day, China time; 100, 600 and 601 (the token is refused) until the user changes the
token or asks for a refresh; 400 and 500 fail this refresh only. The reason is kept on the
configuration and on each followed user, and shown.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from biliup_site import bilibili, live
from biliup_site.bilibili import BilibiliError, BilibiliUnavailable, justoneapi, space
from biliup_site.bilibili.justoneapi import JustOneApiError
from biliup_site.bilibili.pace import RiskControlled
from biliup_site.bilibili.space import SpacePage, SpaceVideo
from biliup_site.models import Configuration
from biliup_site.workers import this_worker
from creators.models import Creator, CreatorSnapshot, CreatorVideo, VideoSnapshot
from uploads.models import UploadJob

if TYPE_CHECKING:
    from creators.forms import CreatorForm

logger = logging.getLogger(__name__)

# JustOneAPI's 301 "collection failed, please retry": tries per page.
COLLECTION_TRIES = 3
# A refresh beats at most this often (seconds); Creator.STALE_AFTER is far longer.
BEAT_SECONDS = 5.0
# Failures push the next refresh back, doubling from CATALOG_BACKOFF_SECONDS up to this.
MAX_BACKOFF = timedelta(hours=6)
# JustOneAPI's quota day: the service is run from mainland China (its prod-cn environment), so
# the day is taken to turn at midnight China time. The document does not say.
QUOTA_ZONE = ZoneInfo("Asia/Shanghai")


class CatalogError(Exception):
    """What the user asked for cannot be done now (the API answers 409)."""


class RefreshFailed(Exception):
    """The list could not be read: the message says why, for the user."""


class Stopped(Exception):
    """JustOneAPI refuses the token or is over its limits, or Bilibili's risk control refused a
    list: no request is made until `until` (None: until the user changes the token or asks
    again)."""

    def __init__(self, reason: str, until: datetime | None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.until = until


# Following --------------------------------------------------------------------------------------


def save(form: CreatorForm) -> Creator:
    """Follow a user, or change how it is refreshed (the pages' and the API's one way). A new
    user, or one that changed provider, is refreshed at once."""
    new = form.instance.pk is None
    creator = form.save()
    if new or "provider" in form.changed_data:
        creator = followed(creator)
    return creator


def followed(creator: Creator) -> Creator:
    """A user was just followed (or its provider changed): refresh it now."""
    Creator.objects.filter(pk=creator.pk).update(next_refresh=timezone.now())
    dispatch()
    creator.refresh_from_db()
    return creator


def request_refresh(creator: Creator) -> Creator:
    """The user asks for a refresh now. A JustOneAPI stop that waits for the user (refused
    token, no balance) is lifted to try again; one that waits for a time (quota) is not."""
    config = Configuration.load()
    if creator.effective_provider(config.catalog_provider) == "justoneapi":
        stop = justoneapi_stop(config)
        if stop is not None and stop.until is not None:
            raise CatalogError(
                f"{stop.reason} Refreshes through JustOneAPI resume at"
                f" {timezone.localtime(stop.until):%Y-%m-%d %H:%M %Z}."
            )
        if stop is not None:
            lift_justoneapi_stop()
    Creator.objects.filter(pk=creator.pk).update(next_refresh=timezone.now())
    dispatch()
    creator.refresh_from_db()
    return creator


def expect(job: UploadJob) -> None:
    """An archive was submitted: refresh its account's catalog until the bvid shows up there.

    The account is followed if it was not, so its uploads can be seen and verified."""
    account = job.account
    if account is None or not account.mid or not job.bvid:
        return
    creator, _ = Creator.objects.get_or_create(
        uid=account.mid, defaults={"name": account.uname, "face": account.face}
    )
    Creator.objects.filter(pk=creator.pk).update(next_refresh=timezone.now())
    dispatch()


def pending_uploads(uid: int, now: datetime | None = None) -> QuerySet[UploadJob]:
    """Our submitted archives on account `uid` not seen in its catalog yet (and not given up)."""
    now = now or timezone.now()
    return UploadJob.objects.filter(
        account__mid=uid,
        status=UploadJob.Status.DONE,
        visible_since__isnull=True,
        finished__gte=now - timedelta(days=settings.CATALOG_VERIFY_DAYS),
    ).exclude(bvid="")


def videos(creator: Creator, filters: dict[str, Any]) -> QuerySet[CreatorVideo]:
    """The user's videos as a VideoFilterForm's cleaned data asks: filtered and sorted."""
    query = creator.videos.all()
    if filters.get("q"):
        query = query.filter(title__icontains=filters["q"])
    if filters.get("category"):
        query = query.filter(category=filters["category"])
    if filters.get("since"):
        query = query.filter(published__gte=filters["since"])
    if filters.get("until"):
        query = query.filter(published__lt=filters["until"])
    order = filters.get("order") or "-published"
    tie = "-aid" if order.startswith("-") else "aid"
    return query.order_by(order, tie)


# JustOneAPI's stop --------------------------------------------------------------------------------


@dataclass(frozen=True)
class JustOneApiStop:
    reason: str
    until: datetime | None


def justoneapi_stop(config: Configuration) -> JustOneApiStop | None:
    """Why refreshes through JustOneAPI are held, if they are."""
    reason = config.justoneapi_stopped
    if not reason:
        return None
    return JustOneApiStop(reason, config.justoneapi_stop_until)


def lift_justoneapi_stop() -> None:
    Configuration.objects.filter(pk=1).update(
        justoneapi_stop_reason="", justoneapi_stop_until=None
    )


def _hold_justoneapi(reason: str, until: datetime | None) -> None:
    Configuration.objects.filter(pk=1).update(
        justoneapi_stop_reason=reason[:300], justoneapi_stop_until=until
    )


def _next_quota_day(now: datetime) -> datetime:
    local = now.astimezone(QUOTA_ZONE)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight + timedelta(days=1)


def _justoneapi_q(config: Configuration) -> Q:
    q = Q(provider=Creator.Provider.JUSTONEAPI)
    if config.catalog_provider == "justoneapi":
        q |= Q(provider=Creator.Provider.DEFAULT)
    return q


# Dispatch -------------------------------------------------------------------------------------


def dispatch(now: datetime | None = None) -> int:
    """Claim the users due for a refresh, within CATALOG_CONCURRENCY, and hand each to a
    worker. Scheduled every minute; also called when a refresh ends or a user asks for one.
    Returns how many were claimed."""
    from django_q.tasks import async_task

    now = now or timezone.now()
    config = Configuration.load()
    stale = now - Creator.STALE_AFTER
    stop = justoneapi_stop(config)
    with transaction.atomic():
        # One dispatcher at a time, whichever machine: the count below must not race.
        Configuration.objects.select_for_update().filter(pk=1).first()
        busy = Creator.objects.filter(
            refreshing_since__isnull=False, heartbeat__gt=stale
        ).count()
        free = settings.CATALOG_CONCURRENCY - busy
        due = Creator.objects.filter(next_refresh__lte=now).filter(
            Q(refreshing_since__isnull=True) | Q(heartbeat__lte=stale)
        )
        if stop is not None:
            held = due.filter(_justoneapi_q(config))
            # Every user it holds says why, not only the one that met the refusal.
            held.exclude(status_reason=stop.reason).update(
                status=Creator.Status.STOPPED, status_reason=stop.reason
            )
            due = due.exclude(_justoneapi_q(config))
        claimed = []
        for creator in due.order_by("next_refresh")[: max(free, 0)]:
            if Creator.objects.filter(
                pk=creator.pk, refreshing_since=creator.refreshing_since
            ).update(refreshing_since=now, heartbeat=now, worker=this_worker()):
                claimed.append(creator.pk)

        def enqueue() -> None:
            for pk in claimed:
                async_task(
                    "creators.tasks.refresh_creator",
                    pk,
                    group="catalogs",
                    task_name=f"catalog-{pk}-{int(now.timestamp())}",
                )

        transaction.on_commit(enqueue)
    return len(claimed)


# Refresh ----------------------------------------------------------------------------------------


@dataclass
class Walk:
    pages: int = 0
    count: int | None = None
    author: str = ""
    endpoint: str = ""
    new: list[int] = field(default_factory=list)  # pks of videos first seen


def refresh(creator: Creator) -> None:
    """Read the user's list and update the catalog. The caller claimed the user (dispatch)."""
    config = Configuration.load()
    provider = creator.effective_provider(config.catalog_provider)
    now = timezone.now()
    full = creator.synced is None or (
        creator.full_synced is None
        or creator.full_synced < now - timedelta(hours=settings.CATALOG_FULL_SYNC_HOURS)
    )
    first_sync = creator.synced is None
    Creator.objects.filter(pk=creator.pk).update(worker=this_worker(), heartbeat=now)
    walk = Walk()
    try:
        if provider == "justoneapi":
            pages = _justoneapi_pages(creator, config, walk)
        else:
            pages = _bilibili_pages(creator, walk)
        _walk(creator, pages, full, walk)
    except Stopped as exc:
        _stopped(creator, exc)
    except (RefreshFailed, BilibiliError, BilibiliUnavailable, JustOneApiError) as exc:
        _failed(creator, _reason(exc))
    except IntegrityError:
        if not Creator.objects.filter(pk=creator.pk).exists():
            logger.info("%s was unfollowed during its refresh", creator)
            return
        raise
    except Exception as exc:
        logger.exception("Refreshing %s failed", creator)
        _failed(creator, f"Unexpected error ({type(exc).__name__}: {exc})")
    else:
        _succeeded(creator, walk, full, first_sync)
    finally:
        Creator.objects.filter(pk=creator.pk).update(
            refreshing_since=None, heartbeat=None, worker=""
        )
    creator.refresh_from_db()
    creator.publish()


def _reason(exc: Exception) -> str:
    if isinstance(exc, BilibiliUnavailable):
        return f"Bilibili could not be reached: {exc}"
    return str(exc)


def _beat(creator: Creator) -> None:
    Creator.objects.filter(pk=creator.pk).update(heartbeat=timezone.now())


def _risk_stop(exc: RiskControlled, what: str, page: int) -> Stopped:
    until = datetime.fromtimestamp(exc.until, tz=UTC)
    reason = (
        f"Stopped by Bilibili risk control ({exc.code}) at page {page} of the {what};"
        f" next try at {timezone.localtime(until):%H:%M}."
    )
    return Stopped(reason, until)


def _bilibili_pages(creator: Creator, walk: Walk) -> Iterator[SpacePage]:
    """The app list, page by page; the web list instead when the app list fails at once."""
    sess = space.session()
    try:
        page = space.app_page(sess, creator.uid)
    except BilibiliError as exc:
        if exc.code == -404:
            raise RefreshFailed(
                f"Bilibili has no user with UID {creator.uid} ({exc})"
            ) from None
        logger.info("App list of %s failed (%s); trying the web list", creator, exc)
        yield from _wbi_pages(sess, creator, walk, app_error=exc)
        return
    except BilibiliUnavailable as exc:
        logger.info("App list of %s failed (%s); trying the web list", creator, exc)
        yield from _wbi_pages(sess, creator, walk, app_error=exc)
        return
    walk.endpoint = "app"
    number = 1
    while True:
        yield page
        if not page.has_next or page.cursor is None:
            return
        number += 1
        try:
            page = space.app_page(sess, creator.uid, page.cursor)
        except RiskControlled as exc:
            raise _risk_stop(exc, "app list", number) from None


def _wbi_pages(
    sess: bilibili.Session, creator: Creator, walk: Walk, app_error: Exception
) -> Iterator[SpacePage]:
    try:
        page = space.wbi_page(sess, creator.uid, 1)
    except (BilibiliError, BilibiliUnavailable) as exc:
        if isinstance(app_error, RiskControlled) and not (
            isinstance(exc, RiskControlled) and exc.sent
        ):
            # The app list's refusal is what holds us back (the web list was held back by it,
            # or failed for a lesser reason).
            raise _risk_stop(app_error, "app list", 1) from None
        if isinstance(exc, RiskControlled):
            raise _risk_stop(exc, "web list", 1) from None
        raise RefreshFailed(
            f"App list: {_reason(app_error)}; web list: {_reason(exc)}"
        ) from None
    walk.endpoint = "web"
    number = 1
    while True:
        yield page
        if not page.has_next or page.cursor is None:
            return
        number += 1
        try:
            page = space.wbi_page(sess, creator.uid, int(page.cursor))
        except RiskControlled as exc:
            raise _risk_stop(exc, "web list", number) from None


def _justoneapi_pages(
    creator: Creator, config: Configuration, walk: Walk
) -> Iterator[SpacePage]:
    if not config.justoneapi_token:
        raise RefreshFailed(
            "JustOneAPI is chosen but no token is set: add it in Settings"
        )
    stop = justoneapi_stop(config)
    if stop is not None:
        raise Stopped(stop.reason, stop.until)
    sess = justoneapi.session()
    walk.endpoint = "justoneapi"
    param: str | None = None
    while True:
        page = _collect(
            creator,
            functools.partial(
                justoneapi.user_videos,
                sess,
                config.justoneapi_token,
                config.justoneapi_env,
                creator.uid,
                param,
            ),
        )
        yield page
        if not page.has_next or page.cursor is None:
            return
        param = page.cursor


def _collect(creator: Creator, fetch: Callable[[], SpacePage]) -> SpacePage:
    """One JustOneAPI page: 301 retried with backoff, the token-wide codes turned into Stopped."""
    for attempt in range(1, COLLECTION_TRIES + 1):
        try:
            return fetch()
        except JustOneApiError as exc:
            if exc.retry and attempt < COLLECTION_TRIES:
                wait = settings.CATALOG_RETRY_SECONDS * 2 ** (attempt - 1)
                logger.info("%s for %s; retrying in %.0f s", exc, creator, wait)
                _beat(creator)
                time.sleep(wait)
                continue
            if exc.retry:
                raise RefreshFailed(f"{exc}; tried {COLLECTION_TRIES} times") from None
            raise _stop_for(exc) or exc from None
    raise AssertionError("unreachable")


def _stop_for(exc: JustOneApiError) -> Stopped | None:
    now = timezone.now()
    if exc.rate_limited:
        until = now + timedelta(seconds=settings.CATALOG_BACKOFF_SECONDS)
        reason = f"{exc}: refreshes through JustOneAPI back off."
    elif exc.quota:
        until = _next_quota_day(now)
        reason = f"{exc}: polling through JustOneAPI stops until the next day."
    elif exc.code == 100:
        until = None
        reason = f"{exc}: set a valid token in Settings."
    elif exc.code == 600:
        until = None
        reason = (
            f"{exc}: this token may not use the User Published Videos (V2) API;"
            " check its permissions in JustOneAPI."
        )
    elif exc.code == 601:
        until = None
        reason = f"{exc}: top up the JustOneAPI balance, then refresh."
    else:
        return None
    _hold_justoneapi(reason, until)
    return Stopped(reason, until)


def _walk(creator: Creator, pages: Iterator[SpacePage], full: bool, walk: Walk) -> None:
    known = set(creator.videos.values_list("bvid", flat=True))
    beat = time.monotonic()
    for page in pages:
        walk.pages += 1
        if time.monotonic() - beat > BEAT_SECONDS:
            _beat(creator)
            beat = time.monotonic()
        if page.count is not None:
            walk.count = page.count
        met_known = any(v.bvid in known for v in page.videos)
        walk.new.extend(_store(creator, page.videos))
        known.update(v.bvid for v in page.videos)
        if page.videos and not walk.author:
            walk.author = page.videos[0].author
        if met_known and not full:
            return


# What a refresh compares to tell whether a seen video changed (raw follows them).
COMPARED = (
    "aid",
    "title",
    "cover",
    "duration",
    "play",
    "danmaku",
    "published",
    "category",
)


def _store(creator: Creator, videos: list[SpaceVideo]) -> list[int]:
    """Insert new videos, update changed ones, snapshot moved plays. Returns the new pks."""
    now = timezone.now()
    seen = {
        v.bvid: v
        for v in creator.videos.filter(bvid__in=[i.bvid for i in videos]).defer("raw")
    }
    fresh: dict[str, CreatorVideo] = {}
    changed: list[CreatorVideo] = []
    moved: list[CreatorVideo] = []  # seen before, with other plays or danmaku now
    for item in videos:
        video = seen.get(item.bvid) or fresh.get(item.bvid)
        if video is None:
            video = CreatorVideo(creator=creator, bvid=item.bvid)
            _fill(video, item)
            fresh[item.bvid] = video
            continue
        before = tuple(getattr(video, name) for name in COMPARED)
        _fill(video, item)
        if tuple(getattr(video, name) for name in COMPARED) == before:
            continue
        if (video.play, video.danmaku) != before[4:6]:
            moved.append(video)
        video.updated = now
        changed.append(video)
    with transaction.atomic():
        CreatorVideo.objects.bulk_create(fresh.values())
        if changed:
            CreatorVideo.objects.bulk_update(changed, [*COMPARED, "raw", "updated"])
        if not all(v.pk for v in fresh.values()):
            # A backend that does not return ids from a bulk insert: read them back.
            ids = dict(
                creator.videos.filter(bvid__in=list(fresh)).values_list("bvid", "pk")
            )
            for v in fresh.values():
                v.pk = ids[v.bvid]
        VideoSnapshot.objects.bulk_create(
            VideoSnapshot(video_id=v.pk, at=now, play=v.play, danmaku=v.danmaku)
            for v in [*fresh.values(), *moved]
        )
    return [v.pk for v in fresh.values()]


def _fill(video: CreatorVideo, item: SpaceVideo) -> None:
    video.aid = item.aid
    video.title = item.title[:200]
    video.cover = item.cover[:500]
    video.duration = max(item.duration, 0)
    video.play = item.play
    video.danmaku = item.danmaku
    video.published = item.published
    video.category = item.category[:50]
    video.raw = item.raw


def _next_refresh(creator: Creator, now: datetime) -> datetime:
    regular = now + timedelta(minutes=creator.refresh_minutes)
    if pending_uploads(creator.uid, now).exists():
        return min(regular, now + timedelta(seconds=settings.CATALOG_VERIFY_SECONDS))
    return regular


def _succeeded(creator: Creator, walk: Walk, full: bool, first_sync: bool) -> None:
    now = timezone.now()
    # First: an upload seen now no longer shortens the next refresh.
    _verify_uploads(creator, now)
    fields = {
        "status": Creator.Status.OK,
        "status_reason": "",
        "failures": 0,
        "last_refresh": now,
        "provider_used": walk.endpoint,
        "next_refresh": _next_refresh(creator, now),
    }
    if walk.count is not None:
        fields["video_count"] = walk.count
    if walk.author:
        fields["name"] = walk.author[:100]
    if full:
        fields["full_synced"] = now
        fields["synced"] = creator.synced or now
    if not creator.face:
        fields.update(_card(creator))
    Creator.objects.filter(pk=creator.pk).update(**fields)
    totals = creator.videos.aggregate(play=Sum("play"), danmaku=Sum("danmaku"))
    CreatorSnapshot.objects.create(
        creator=creator,
        at=now,
        videos=creator.videos.count(),
        play=totals["play"] or 0,
        danmaku=totals["danmaku"] or 0,
    )
    logger.info(
        "Refreshed %s (%s) through %s: %s page(s), %s new video(s)",
        fields.get("name") or creator.name,
        creator.uid,
        walk.endpoint,
        walk.pages,
        len(walk.new),
    )
    if not first_sync:
        # A first sync finds every video "new": the page shows them; announcing each is noise.
        for pk in walk.new:
            live.notify(live.PROGRESS_GROUP, "job.changed", kind="creator_video", pk=pk)


def _card(creator: Creator) -> dict[str, str]:
    try:
        card = space.card(space.session(), creator.uid)
    except (BilibiliError, BilibiliUnavailable) as exc:
        # Name and face are a courtesy: the list is what matters.
        logger.info("No user card for %s: %s", creator, exc)
        return {}
    fields = {"face": card.face[:500]}
    if card.name and not creator.name:
        fields["name"] = card.name[:100]
    return fields


def _verify_uploads(creator: Creator, now: datetime) -> None:
    bvids = CreatorVideo.objects.filter(creator=creator).values("bvid")
    seen = list(
        pending_uploads(creator.uid, now)
        .filter(bvid__in=bvids)
        .values_list("pk", flat=True)
    )
    if not seen:
        return
    UploadJob.objects.filter(pk__in=seen).update(visible_since=now)
    for pk in seen:
        live.notify(live.PROGRESS_GROUP, "job.changed", kind="upload_job", pk=pk)
    logger.info("%s upload(s) now visible in %s's catalog", len(seen), creator)


def _failed(creator: Creator, reason: str) -> None:
    now = timezone.now()
    failures = creator.failures + 1
    wait = min(
        timedelta(seconds=settings.CATALOG_BACKOFF_SECONDS * 2 ** (failures - 1)),
        MAX_BACKOFF,
    )
    logger.warning("Refreshing %s failed: %s", creator, reason)
    Creator.objects.filter(pk=creator.pk).update(
        status=Creator.Status.ERROR,
        status_reason=reason,
        failures=failures,
        last_refresh=now,
        next_refresh=now + wait,
    )


def _stopped(creator: Creator, stop: Stopped) -> None:
    now = timezone.now()
    logger.warning("Refreshing %s stopped: %s", creator, stop.reason)
    Creator.objects.filter(pk=creator.pk).update(
        status=Creator.Status.STOPPED,
        status_reason=stop.reason,
        last_refresh=now,
        # Due again when the stop ends; dispatch() holds it back until then.
        next_refresh=stop.until or now,
    )
