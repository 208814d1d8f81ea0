"""What may be attached to a referral: PDF, Word (DOCX), Excel (XLSX), JPEG and PNG, up
to 20 MB, recognised by their content (``filetype`` reads the first bytes; Word and
Excel files must also open as the ZIP packages they are), never by their name."""

from __future__ import annotations

import os
import unicodedata
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import filetype

from portal import files
from portal.crypto.keys import KeyOwner
from portal.crypto.stream import CHUNK_SIZE
from portal.extensions import db
from portal.files import MAX_FILE_BYTES
from portal.models import StoredFile


@dataclass(frozen=True)
class Kind:
    media_type: str
    extension: str
    # For Office files: the part every real document of the kind has.
    main_part: str | None = None


KINDS = {
    "pdf": Kind("application/pdf", "pdf"),
    "docx": Kind(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        "word/document.xml",
    ),
    "xlsx": Kind(
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "xlsx",
        "xl/workbook.xml",
    ),
    "jpg": Kind("image/jpeg", "jpg"),
    "png": Kind("image/png", "png"),
}
WRONG_TYPE = "The selected file must be a PDF, Word document, Excel spreadsheet, JPG or PNG"
TOO_LARGE = f"The selected file must be smaller than {MAX_FILE_BYTES // (1024 * 1024)}MB"
EMPTY = "The selected file is empty"
NONE_CHOSEN = "Select a file"
NO_SPACE = (
    "The file could not be saved because the service has run out of storage space. Nothing "
    "of it was kept. Try again later; if this keeps happening, tell the LADO's team"
)
MAX_FILES = 20  # per case: plenty for a referral, and a bound on what one case can hold
TOO_MANY = f"You can send up to {MAX_FILES} files. Remove one to add another"
NAME_MAX_LENGTH = 255


class UploadRefusedError(ValueError):
    """Why a file cannot be taken, in GOV.UK words."""


def size_of(stream: IO[bytes]) -> int:
    stream.seek(0, os.SEEK_END)
    size = stream.tell()
    stream.seek(0)
    return size


def check(stream: IO[bytes], size: int) -> Kind:
    """The kind of file, or UploadRefusedError. The stream is left at its start."""
    if size == 0:
        raise UploadRefusedError(EMPTY)
    if size > MAX_FILE_BYTES:
        raise UploadRefusedError(TOO_LARGE)
    head = stream.read(8192)
    stream.seek(0)
    guessed = filetype.guess(head)
    kind = KINDS.get(guessed.extension) if guessed else None
    if kind is None:
        raise UploadRefusedError(WRONG_TYPE)
    if kind.main_part and not _is_package_with(stream, kind.main_part):
        raise UploadRefusedError(WRONG_TYPE)
    stream.seek(0)
    return kind


def _is_package_with(stream: IO[bytes], part: str) -> bool:
    try:
        with zipfile.ZipFile(stream) as package:
            names = set(package.namelist())
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return "[Content_Types].xml" in names and part in names


def clean_name(filename: str | None, kind: Kind) -> str:
    """The name to keep and offer on download: the file's own name without any folder,
    control characters or odd forms, ending in its real type's extension."""
    name = unicodedata.normalize("NFC", filename or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if c.isprintable()).strip(" .")
    stem = name.rsplit(".", 1)[0] if "." in name else name
    stem = stem[: NAME_MAX_LENGTH - len(kind.extension) - 1].strip() or "file"
    return f"{stem}.{kind.extension}"


@dataclass(frozen=True)
class Stored:
    file: StoredFile
    filename: str
    media_type: str


def store_checked(owner: KeyOwner, stream: IO[bytes], filename: str | None) -> Stored:
    """Check the file by its content, then store it sealed under the owner's key.
    UploadRefusedError says why a file is refused; nothing of it is kept then."""
    kind = check(stream, size_of(stream))
    try:
        stored = files.store(owner, _chunks(stream))
    except files.StorageFullError:
        # The database refused the write and ended its transaction: roll it back so the
        # page can be shown again with the message.
        db.session.rollback()
        raise UploadRefusedError(NO_SPACE) from None
    return Stored(stored, clean_name(filename, kind), kind.media_type)


def _chunks(stream: IO[bytes]) -> Iterator[bytes]:
    while chunk := stream.read(CHUNK_SIZE):
        yield chunk
