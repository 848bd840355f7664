"""The one file store for uploads under the data folder (``<data dir>/files``), with a limit per kind.

Why one place: the back office (licences, permits, product photos) and the chat channels (documents
an applicant sends while applying) keep files the reviewer opens from the same store; two stores on
one folder with different limits disagreed about what a file may be.
"""

from __future__ import annotations

from pathlib import Path

from commerce_core.api import LocalFileStore

MIB = 1024 * 1024
UPLOADS_FOLDER = "files"
#: the largest licence or permit
DOCUMENT_MAX = 5 * MIB
#: the largest file per kind; "document": application files, "image": product photos
FILE_LIMITS = {"document": DOCUMENT_MAX, "image": 10 * MIB}


def upload_store(data_dir: Path) -> LocalFileStore:
    return LocalFileStore(Path(data_dir) / UPLOADS_FOLDER, limits=FILE_LIMITS)
