"""佐证材料 (evidence) as plain data: a file a liaison sent, whether it is accepted, where its
local copy goes, and a stored file as the card lists it.

Decision: the type of a file is its name's extension (a photo is always a jpg); a document
without a usable name is typed by its MIME type. The size is Telegram's figure, checked before
anything is downloaded.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from pathlib import PurePosixPath

PHOTO = "photo"
DOCUMENT = "document"
PHOTO_TYPE = "jpg"

# MIME types of the office formats that mimetypes may not know (WPS 文字 / 表格).
_MIME_TYPES = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "application/pdf": "pdf",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/kswps": "wps",
    "application/vnd.ms-works": "wps",
    "application/kset": "et",
}


class Refusal(StrEnum):
    """Why a file is not kept."""

    TYPE = "type"  # not in EVIDENCE_TYPES
    SIZE = "size"  # over EVIDENCE_MAX_MB


@dataclass(frozen=True, slots=True)
class Incoming:
    """A photo or document as a message carried it (what Telegram reported)."""

    kind: str  # PHOTO | DOCUMENT
    file_id: str
    file_unique_id: str
    file_name: str | None
    mime_type: str | None
    size: int | None  # Telegram may leave it out

    @property
    def file_type(self) -> str | None:
        """The file's type as an extension (lower case, no dot), if it can be told."""
        if self.kind == PHOTO:
            return PHOTO_TYPE
        suffix = PurePosixPath(self.file_name or "").suffix.lower().lstrip(".")
        if suffix:
            return suffix
        mime = (self.mime_type or "").lower()
        if mime in _MIME_TYPES:
            return _MIME_TYPES[mime]
        guessed = mimetypes.guess_extension(mime) if mime else None
        return guessed.lstrip(".") if guessed else None

    @property
    def shown_name(self) -> str:
        """The name the file is listed by."""
        if self.file_name:
            return self.file_name
        return f"照片.{PHOTO_TYPE}" if self.kind == PHOTO else f"文件.{self.file_type or 'bin'}"


def refusal(incoming: Incoming, types: frozenset[str], max_bytes: int) -> Refusal | None:
    """Why the file is refused (its type, then its size), or None if it is accepted."""
    if incoming.file_type not in types:
        return Refusal.TYPE
    if incoming.size is not None and incoming.size > max_bytes:
        return Refusal.SIZE
    return None


def local_path(year: int, task_no: int, unit_id: int, incoming: Incoming) -> PurePosixPath:
    """Where the local copy goes under EVIDENCE_DIR: one file per task, unit and file, so a
    repeated download of the same file writes the same path."""
    unique = re.sub(r"[^A-Za-z0-9_\-]", "", incoming.file_unique_id)[:64] or "file"
    return PurePosixPath(str(year), str(task_no), f"{unit_id}-{unique}.{incoming.file_type}")


@dataclass(frozen=True, slots=True)
class EvidenceFile:
    """A stored file as the card lists and sends it."""

    id: int
    unit: str
    kind: str
    file_id: str
    name: str
    size: int
    at: datetime
    path: str  # the local copy, relative to EVIDENCE_DIR


_TASK_NO = re.compile(r"第(\d{1,4})项")


def task_no_in(text: str) -> int | None:
    """The one task 序号 a bot message names (a card, a receipt, a prompt), or None when it
    names none or several."""
    found = {int(n) for n in _TASK_NO.findall(text)}
    return found.pop() if len(found) == 1 else None
