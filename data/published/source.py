"""A published file's text: from a ``.txt`` or a ``.zip`` holding one, decoded strictly.

The research files come from CDE zipped (ELPAC.md §5.1). A zip is read within bounds, so a
crafted one cannot fill the memory or the disk: its one text entry may hold at most
``MAX_ENTRY_BYTES`` and compress at most ``MAX_RATIO`` to 1 (a real research file compresses
about 10:1). The text is UTF-8, or cp1252 when the whole file decodes as cp1252 and has no
UTF-8 sequence in it; anything else is refused with the byte offset where reading failed,
never guessed (a wrong guess would garble names without a word).
"""

from __future__ import annotations

import re
import zipfile
from typing import TYPE_CHECKING

from data.problems import InputError

if TYPE_CHECKING:
    from pathlib import Path

MAX_ENTRY_BYTES = 1 << 30
"""1 GiB: the largest uncompressed entry a zip may hold (statewide files are about 100 MB)."""
MAX_RATIO = 200
"""The highest compression ratio a zip entry may have (a zip bomb's is in the thousands)."""
_CHUNK = 1 << 20
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xf4][\x80-\xbf]+")


def read_bytes(path: Path) -> bytes:
    """The file's bytes, or those of the one ``.txt`` inside a ``.zip`` (bounded).

    Raises ``InputError`` naming the limit a zip goes over.
    """
    if not path.is_file():
        raise InputError(f"no such file: {path}")
    if not zipfile.is_zipfile(path):
        return path.read_bytes()
    try:
        with zipfile.ZipFile(path) as archive:
            entries = [i for i in archive.infolist() if not i.is_dir()]
            texts = [i for i in entries if i.filename.lower().endswith(".txt")]
            if len(texts) != 1:
                raise InputError(f"{path.name}: a research-file zip holds one .txt file; this "
                                 f"one holds {len(texts)} ({len(entries)} entries in all)")
            return _bounded_read(archive, texts[0], path.name)
    except (zipfile.BadZipFile, NotImplementedError, RuntimeError) as exc:
        raise InputError(f"{path.name}: the zip cannot be read ({exc})") from None


def _bounded_read(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> bytes:
    where = f"{name}: {info.filename}"
    if info.file_size > MAX_ENTRY_BYTES:
        raise InputError(f"{where} is {info.file_size:,} bytes uncompressed, over the limit "
                         f"of {MAX_ENTRY_BYTES / (1 << 30):g} GiB a zip entry may hold; refused")
    if info.file_size > MAX_RATIO * max(info.compress_size, 1):
        raise InputError(f"{where} compresses {info.file_size / max(info.compress_size, 1):,.0f}"
                         f" to 1, over the limit of {MAX_RATIO}:1 (a zip bomb?); refused")
    # The sizes in the directory can lie: stop reading past them too.
    limit = min(info.file_size, MAX_ENTRY_BYTES)
    parts: list[bytes] = []
    total = 0
    with archive.open(info) as handle:
        while chunk := handle.read(_CHUNK):
            total += len(chunk)
            if total > limit or total > MAX_RATIO * max(info.compress_size, 1):
                raise InputError(f"{where} holds more than its stated {info.file_size:,} "
                                 f"bytes, or compresses over {MAX_RATIO}:1; refused")
            parts.append(chunk)
    return b"".join(parts)


def decode_strict(data: bytes, name: str) -> str:
    r"""The text of a file: UTF-8 (a byte-order mark dropped), else wholly cp1252.

    Raises ``InputError`` naming the byte offset of the first byte that does not decode, or
    the first non-UTF-8 byte of a file that mixes UTF-8 with another encoding.

    Examples
    --------
    >>> decode_strict("Peña".encode(), "f.txt"), decode_strict("Peña".encode("cp1252"), "f.txt")
    ('Peña', 'Peña')
    """
    try:
        return data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        utf8_error = exc.start
    if _UTF8_MULTIBYTE.search(data):
        raise InputError(f"{name}: the file mixes encodings: it has UTF-8 text, but the byte at "
                         f"offset {utf8_error:,} (0x{data[utf8_error]:02X}) is not UTF-8; "
                         "save it again as UTF-8")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise InputError(f"{name}: the byte at offset {exc.start:,} (0x{data[exc.start]:02X}) "
                         "is neither UTF-8 nor Windows-1252 text; save the file again as "
                         "UTF-8") from None
