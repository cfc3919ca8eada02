"""Creator catalogs: the videos that followed Bilibili users publish, kept fresh on a schedule.

What lives here: `Creator`, `CreatorVideo`, `VideoSnapshot` and `CreatorSnapshot` (their tables
kept the `uploads_` names they had before the app moved out of `uploads`); following and the
refresh workflow (`catalogs`: dispatch, claims, the JustOneAPI stop, verifying our own uploads),
the django-q2 schedule and tasks, the inline SVG charts, and the creators pages and API. The
space lists and JustOneAPI themselves are `biliup_site.bilibili.space` and `.justoneapi`.

Who may import it: `uploads` (a submitted archive is `catalogs.expect()`ed in its account's
catalog) and `biliup_site` (the live page updates render a followed user's row). It imports
`biliup_site`, `biliup_site.bilibili`, `accounts` (is a followed user one of ours) and
`uploads.models` (the jobs whose archives it looks for), never the upload workflow.
"""
