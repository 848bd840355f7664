"""The local file store: only real JPEG/PNG/WebP/PDF files within the size limit, kept per owner, private
on disk, and addressed by content so nobody overwrites or reads another owner's file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from commerce_core.api import FileRef, InvalidInput, LocalFileStore, NotFound

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + bytes(40)
JPEG = b"\xff\xd8\xff\xe0" + bytes(60)
WEBP = b"RIFF\x24\x00\x00\x00WEBPVP8 " + bytes(30)
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + b"1 0 obj<<>>endobj\n"


@pytest.fixture
def store(tmp_path: Path) -> LocalFileStore:
    return LocalFileStore(tmp_path / "files", max_bytes=1024)


@pytest.mark.parametrize(
    ("data", "content_type"),
    [(PNG, "image/png"), (JPEG, "image/jpeg"), (WEBP, "image/webp"), (PDF, "application/pdf")],
)
async def test_a_stored_file_comes_back_for_its_owner(
    store: LocalFileStore, data: bytes, content_type: str
) -> None:
    ref = await store.put(data, content_type=content_type, owner="merchant:acme")
    assert ref.size == len(data) and ref.content_type == content_type
    assert await store.get(ref) == (data, content_type)
    assert await store.get(FileRef.parse(ref.key)) == (data, content_type)  # the key survives a database


async def test_files_are_private_on_disk_and_stored_once(store: LocalFileStore, tmp_path: Path) -> None:
    first = await store.put(PNG, content_type="image/png", owner="merchant:acme")
    again = await store.put(PNG, content_type="image/png", owner="merchant:acme")
    assert first == again
    [path] = [p for p in (tmp_path / "files").rglob("*") if p.is_file()]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert "acme" not in str(path)  # no owner string becomes a path


async def test_wrong_types_and_sizes_are_refused_with_codes(store: LocalFileStore) -> None:
    cases = [
        (b"<svg onload=alert(1)>", "image/svg+xml", "file_type_not_allowed"),
        (b"MZ\x90\x00 an executable", "application/pdf", "file_type_not_allowed"),  # claims PDF, is not
        (PNG, "image/jpeg", "file_type_not_allowed"),  # a real PNG sent as a JPEG
        (b"", "image/png", "file_empty"),
        (PNG + bytes(1024), "image/png", "file_too_large"),
    ]
    for data, content_type, code in cases:
        with pytest.raises(InvalidInput) as caught:
            await store.put(data, content_type=content_type, owner="merchant:acme")
        assert caught.value.code == code, content_type
    with pytest.raises(InvalidInput):
        await store.put(PNG, content_type="image/png", owner="../../etc")


async def test_nobody_reads_another_owners_file_or_a_forged_reference(store: LocalFileStore) -> None:
    ref = await store.put(PDF, content_type="application/pdf", owner="merchant:acme")
    forged = [
        FileRef("merchant:beta", ref.digest, ref.content_type, ref.size),
        FileRef("merchant:acme", "0" * 64, ref.content_type, ref.size),
        FileRef("merchant:acme", "../" * 5 + "etc/passwd", ref.content_type, ref.size),
    ]
    for other in forged:
        with pytest.raises(NotFound):
            await store.get(other)
    for key in ["", "merchant:acme/../../x/image/png/1", f"merchant:acme/{ref.digest}/text/html/1"]:
        with pytest.raises(InvalidInput):
            FileRef.parse(key)
    await store.delete(forged[0])  # deleting a file one does not own leaves the real one alone
    assert (await store.get(ref))[0] == PDF
    await store.delete(ref)
    with pytest.raises(NotFound):
        await store.get(ref)
