"""The request class: uploads stay in memory.

Werkzeug writes an upload bigger than 500 KB to a temporary file while the request is
read: for an attachment, that would put someone's evidence on the server's disk in clear.
Held in memory instead (the whole request is capped by MAX_CONTENT_LENGTH), a file only
ever reaches storage sealed.
"""

from __future__ import annotations

import io
from typing import IO

from flask import Request


class PortalRequest(Request):
    def _get_file_stream(
        self,
        total_content_length: int | None,
        content_type: str | None,
        filename: str | None = None,
        content_length: int | None = None,
    ) -> IO[bytes]:
        return io.BytesIO()
