"""A passthrough FUSE filesystem with the write semantics of Databricks Volumes and DBFS mounts.

Run as ``python volumefs.py BACKING_DIR MOUNTPOINT``; it stays in the foreground until unmounted
(``fusermount3 -u MOUNTPOINT``). Every operation is passed to ``BACKING_DIR`` except these, which
fail the way the object-storage FUSE mounts fail:

- opening a file with ``O_APPEND`` fails with ``ESPIPE`` ("Illegal seek");
- ``rename`` fails with ``ENOSYS`` ("Function not implemented");
- a write at any offset other than the end of what this open handle has written so far (a seek
  within a file, or an update in place of an existing file opened without ``O_TRUNC``) fails with
  ``ESPIPE``; truncating to a length other than 0 fails with ``ESPIPE``.

Whole-file writes (create or open with ``O_TRUNC``, write sequentially, close), reads, listing,
``unlink``, ``mkdir`` and ``rmdir`` work. Needs ``mfusepy`` and libfuse 3 (Debian: ``fuse3``).
"""

from __future__ import annotations

import errno
import os
import sys
import threading
from typing import Any

import mfusepy


class VolumeLikeFS(mfusepy.Operations):
    """Passthrough to ``root`` refusing append, rename and non-sequential writes."""

    def __init__(self, root: str) -> None:
        self.root = os.path.realpath(root)
        self._written: dict[int, int] = {}  # fh -> bytes written sequentially through it
        self._lock = threading.Lock()

    def _full(self, path: str) -> str:
        return os.path.join(self.root, path.lstrip("/"))

    def getattr(self, path: str, fh: int | None = None) -> dict[str, Any]:
        try:
            st = os.lstat(self._full(path))
        except OSError as exc:
            raise mfusepy.FuseOSError(exc.errno) from None
        keys = ("st_mode", "st_nlink", "st_size", "st_uid", "st_gid", "st_atime", "st_mtime", "st_ctime")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path: str, fh: int) -> list[str]:
        return [".", "..", *os.listdir(self._full(path))]

    def access(self, path: str, amode: int) -> int:
        if not os.access(self._full(path), amode):
            raise mfusepy.FuseOSError(errno.EACCES)
        return 0

    def mkdir(self, path: str, mode: int) -> int:
        os.mkdir(self._full(path), mode)
        return 0

    def rmdir(self, path: str) -> int:
        os.rmdir(self._full(path))
        return 0

    def unlink(self, path: str) -> int:
        os.unlink(self._full(path))
        return 0

    def rename(self, old: str, new: str) -> int:
        raise mfusepy.FuseOSError(errno.ENOSYS)

    def chmod(self, path: str, mode: int) -> int:
        os.chmod(self._full(path), mode)
        return 0

    def chown(self, path: str, uid: int, gid: int) -> int:
        return 0

    def utimens(self, path: str, times: Any = None) -> int:
        os.utime(self._full(path), times)
        return 0

    def statfs(self, path: str) -> dict[str, int]:
        st = os.statvfs(self._full(path))
        keys = ("f_bavail", "f_bfree", "f_blocks", "f_bsize", "f_favail", "f_ffree", "f_files", "f_flag", "f_frsize")
        return {k: getattr(st, k) for k in keys}

    def _track(self, fh: int, flags: int, path: str) -> int:
        with self._lock:
            self._written[fh] = 0 if (flags & os.O_TRUNC) else os.fstat(fh).st_size
        return fh

    def open(self, path: str, flags: int) -> int:
        if flags & os.O_APPEND:
            raise mfusepy.FuseOSError(errno.ESPIPE)
        fh = os.open(self._full(path), flags & ~os.O_CREAT)
        return self._track(fh, flags, path)

    def create(self, path: str, mode: int, flags: int = os.O_WRONLY) -> int:
        if flags & os.O_APPEND:
            raise mfusepy.FuseOSError(errno.ESPIPE)
        fh = os.open(self._full(path), (flags | os.O_CREAT | os.O_TRUNC) & ~os.O_APPEND, mode)
        return self._track(fh, flags | os.O_TRUNC, path)

    def read(self, path: str | None, size: int, offset: int, fh: int) -> bytes:
        return os.pread(fh, size, offset)

    def write(self, path: str | None, data: bytes, offset: int, fh: int) -> int:
        with self._lock:
            end = self._written.get(fh, 0)
            # Only a write that continues the file this handle is writing from its start is allowed.
            if offset != end or (end > 0 and os.fstat(fh).st_size != end):
                raise mfusepy.FuseOSError(errno.ESPIPE)
            n = os.pwrite(fh, data, offset)
            self._written[fh] = end + n
        return n

    def truncate(self, path: str | None, length: int, fh: int | None = None) -> int:
        if length != 0:
            raise mfusepy.FuseOSError(errno.ESPIPE)
        if path is None:
            assert fh is not None
            os.ftruncate(fh, 0)
        else:
            os.truncate(self._full(path), 0)
        return 0

    def flush(self, path: str | None, fh: int) -> int:
        return 0

    def fsync(self, path: str | None, datasync: int, fh: int) -> int:
        os.fsync(fh)
        return 0

    def release(self, path: str | None, fh: int) -> int:
        with self._lock:
            self._written.pop(fh, None)
        os.close(fh)
        return 0


def main(argv: list[str]) -> None:
    root, mountpoint = argv
    # hard_remove: libfuse would otherwise "hide" a file still open by renaming it to .fuse_hidden*,
    # and rename is refused here, so an unlink racing the kernel's asynchronous release of a just
    # closed handle failed with ENOSYS (seen under CI). Volumes delete open files outright.
    mfusepy.FUSE(
        VolumeLikeFS(root), mountpoint, foreground=True, nothreads=False, default_permissions=False, hard_remove=True
    )


if __name__ == "__main__":
    main(sys.argv[1:])
