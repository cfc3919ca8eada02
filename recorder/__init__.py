"""Streamers and their recordings: live detection, stream download, segmenting and history.

What lives here: `Streamer`, `StreamerInfo` (a live session) and `RecordingFile` (a segment);
the detection loop (`watch`, the `watch` command) and the django-q2 `record` jobs that run a
`recording.Recorder`; the stream formats it writes (`flv`, `hls`, `fmp4`, `chunks`, `files`),
the streamlink bridge for other platforms (`streamlink_sources`), and the streamers and
recordings pages and API. Room info, play URLs and CDN pulls are `biliup_site.bilibili`'s.

Its one door to the uploads: `recorder.signals`. A closed segment and an ended session are
announced there, once, with `send_robust`, so a failing listener never stops a recording; the
recorder never creates or changes an upload row. It reads the uploads only to show them (a
streamer's upload status, the jobs of a segment) and to name a streamer's template.
"""
