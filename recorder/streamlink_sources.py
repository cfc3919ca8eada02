"""Live streams of platforms other than Bilibili, found by streamlink's plugins.

streamlink answers "is it live, and where is the stream"; the recording itself goes through the
same readers and segmenters as Bilibili's streams (HTTP-FLV tag by tag, HLS segment by segment),
so splitting, repair and crash recovery work the same. The plugin's HTTP session (with the
headers and cookies the plugin set) fetches the stream.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests

from biliup_site.bilibili import live
from recorder import reach
from recorder.platforms import UnsupportedUrl

logger = logging.getLogger(__name__)


class StreamlinkUnavailable(RuntimeError):
    """The plugin failed: the site changed, refused us, or could not be reached."""


@dataclass(frozen=True)
class Broadcast:
    title: str
    author: str
    sources: list[live.StreamUrl]  # best first; [] when offline
    http: requests.Session  # with the plugin's headers and cookies


def broadcast(url: str) -> Broadcast:
    """What streamlink finds at url now. Raises UnsupportedUrl, StreamlinkUnavailable, or
    reach.Refused for an address the recorder may not fetch from."""
    from streamlink import Streamlink
    from streamlink.exceptions import NoPluginError, PluginError
    from streamlink.stream.hls import HLSStream
    from streamlink.stream.http import HTTPStream

    # A session per call: plugins set headers and cookies on it, and checks run on threads.
    session = Streamlink({"http-timeout": 10.0})
    # The plugin's own requests (the playlist of hls://, a site's API) reach only what the
    # recorder may: a refused address ends the check with reach.Refused.
    reach.guard(session.http)
    try:
        name, plugin_class, resolved = session.resolve_url(url, follow_redirect=False)
    except NoPluginError:
        raise UnsupportedUrl(f"No streamlink plugin for {url}") from None
    plugin = plugin_class(session, resolved)
    try:
        streams = plugin.streams() or {}
    except (PluginError, OSError) as exc:
        refused = reach.refused_by(exc)
        if refused is not None:
            raise refused from None
        raise StreamlinkUnavailable(f"{name}: {exc}") from exc
    sources: list[live.StreamUrl] = []
    # "best" first (streamlink's pick), then the other qualities, each stream once.
    for quality in sorted(streams, key=lambda q: q != "best"):
        stream = streams[quality]
        if isinstance(stream, HLSStream):
            fmt = "hls"
        elif isinstance(stream, HTTPStream):
            fmt = (
                "flv"  # live sites' progressive HTTP streams are FLV; FlvReader checks
            )
        else:
            logger.info(
                "%s: %s %s is not recorded", url, type(stream).__name__, quality
            )
            continue
        if all(s.url != stream.url for s in sources):
            sources.append(
                live.StreamUrl(
                    url=stream.url, cdn=f"{name} {quality}", qn=0, format=fmt, codec=""
                )
            )
    http = reach.guard(_plain_session(session.http))
    if name == "http":
        # The generic plugin names a stream without asking whether it is there.
        sources = [s for s in sources if _answers(http, s.url)]
    return Broadcast(
        title=str(plugin.get_title() or ""),
        author=str(plugin.get_author() or ""),
        sources=sources,
        http=http,
    )


def _answers(http: requests.Session, url: str) -> bool:
    try:
        with http.get(url, stream=True, timeout=10) as response:
            return response.status_code == 200
    except requests.RequestException:
        return False


def _plain_session(plugin_http: requests.Session) -> requests.Session:
    """A plain requests session with what the plugin set up (headers, cookies, proxies).

    streamlink's own session raises its PluginError where requests returns a response; the
    readers want plain requests behaviour."""
    http = requests.Session()
    http.headers.update(plugin_http.headers)
    http.cookies.update(plugin_http.cookies)
    http.proxies.update(plugin_http.proxies)
    return http
