"""Upload templates and upload jobs: from recorded files to a Bilibili archive.

What lives here: `UploadTemplate` (what biliup calls an upload streamer), `UploadJob`,
`UploadFile` and `UploadChunk` (every step stored as it happens, so a killed worker's job
resumes); the workflow (`upload`: jobs from files or live sessions, retry, cancel, the sweep),
a worker's run of one job (`runner`: progress, waits, retries, submit, append), titles, manual
uploads, and the templates and uploads pages and API. The wire protocols (UPOS, the Open
Platform, submit) are `biliup_site.bilibili`'s; the runner drives them and receives progress
through callbacks.

Who may import it: `recorder`'s pages (to show the jobs of a recording), `creators` (to verify
that an uploaded archive became visible) and `biliup_site`'s dashboard. It hears of recordings
through `recorder.signals` (connected in `apps.py`), never by being called from the recorder.
"""
