"""What stops an upload job: raised anywhere below the worker, shown on the job."""

from __future__ import annotations


class JobFailed(Exception):
    """The job cannot go on; the message says why and what to do."""
