"""Fetch one file over HTTP(S) from a list of mirrors: streamed, resumable, checksummed, atomic.

For each mirror in turn::

    GET <mirror><file>            (with "Range: bytes=<n>-" when <file>.part already holds n bytes)
      206 Partial Content  -> append to <file>.part
      200 OK               -> the server ignored the range: start <file>.part again from byte 0
    verify(<file>.part)   ok  -> rename to <file>, done
                          bad -> delete <file>.part, next mirror
    network error / short body -> keep <file>.part (the next mirror resumes it), next mirror

The opener is injectable (default ``urllib.request.urlopen``) so tests never touch the network:
it is called as ``opener(request, timeout=...)`` and must return a context manager with ``status``
(or ``getcode()``), ``headers`` and ``read(n)``, or raise ``urllib.error.URLError`` / ``OSError``.
"""

from __future__ import annotations

import http.client
import os
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

CHUNK = 1 << 16
MAX_BYTES = 256 << 20  # the most one download may write (MNIST's largest file is 9.9 MB)
NETWORK_ERRORS = (urllib.error.URLError, http.client.HTTPException, OSError, ValueError)


class DownloadError(OSError):
    """A mirror failed to deliver a file; the message says how."""


def _status(response) -> int:
    status = getattr(response, "status", None)
    return int(status if status is not None else response.getcode())


def fetch_part(url: str, dest: Path, opener=None, progress=None, timeout: float = 30.0) -> Path:
    """Download ``url`` into ``<dest>.part``, resuming what is there with a Range request; return that path.

    ``progress``: None shows a tqdm bar only on a terminal, True always, False never.
    Raises ``DownloadError`` (or a network error) when the body is not received in full; the partial
    ``.part`` file is kept so that a later call can resume it.
    """
    opener = opener or urllib.request.urlopen
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "digitnet"})
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        response = opener(request, timeout=timeout)
    except urllib.error.HTTPError as e:
        if e.code == 416 and have:  # range not satisfiable: the .part already holds the whole file
            return part
        raise
    with response:
        status = _status(response)
        if status == 206 and have:
            mode = "ab"
        elif status == 200:
            mode, have = "wb", 0  # no resume support here: full download
        else:
            raise DownloadError(f"{url}: unexpected HTTP status {status}; expected 200 or 206")
        length = response.headers.get("Content-Length")
        if length is not None and not (length.strip().isascii() and length.strip().isdigit()):
            raise DownloadError(f"{url}: bad Content-Length {length[:40]!r}; expected a byte count")
        expected = int(length) if length is not None else None
        if expected is not None and have + expected > MAX_BYTES:
            raise DownloadError(f"{url}: the server offers {have + expected:,} bytes; the limit is {MAX_BYTES:,}")
        received = 0
        bar_total = have + expected if expected is not None else None
        with (
            open(part, mode) as f,
            tqdm(
                total=bar_total,
                initial=have,
                unit="B",
                unit_scale=True,
                unit_divisor=1024,
                desc=dest.name,
                leave=False,
                disable=None if progress is None else not progress,
            ) as bar,
        ):
            while chunk := response.read(CHUNK):
                if have + received + len(chunk) > MAX_BYTES:
                    f.close()
                    part.unlink(missing_ok=True)
                    raise DownloadError(f"{url}: the server sent more than {MAX_BYTES:,} bytes; deleted {part.name}")
                f.write(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    if expected is not None and received != expected:
        raise DownloadError(
            f"{url}: connection closed after {received} of {expected} bytes (kept {part.name} to resume)"
        )
    return part


def fetch(urls, dest, verify, opener=None, progress=None) -> list[str]:
    """Try each URL in turn until one yields a file that passes ``verify(path) -> (ok, detail)``.

    On success the verified file is renamed to ``dest`` and the returned list is empty;
    otherwise ``dest`` is absent and the list holds one line per failed mirror.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    failures = []
    for url in urls:
        try:
            part = fetch_part(url, dest, opener=opener, progress=progress)
        except NETWORK_ERRORS as e:
            failures.append(f"{url}: {e}")
            continue
        ok, detail = verify(part)
        if ok:
            os.replace(part, dest)
            return []
        part.unlink(missing_ok=True)
        failures.append(f"{url}: {detail} (deleted)")
    return failures
