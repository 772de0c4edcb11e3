"""One atomic file writer for every ``.npz`` minigrad saves (``layers.save``,
``optim.save_checkpoint``).

Atomic means: a reader sees either the old file or the complete new one, never
half of it, even if the process is killed mid-save. The recipe:

1. write everything to a temporary file **in the target's folder** (a rename
   is only atomic within one file system), named ``.<target>.tmp-<pid>-<random>``;
2. flush it to the disk (``fsync``);
3. rename it over the target (``os.replace``: atomic on POSIX and Windows).

The details this module settles once for both savers:

* **errors name the target path**, not the hidden temporary file;
* a save killed between 1 and 3 leaves its temporary behind; the **next save
  of the same target removes such stale temporaries** (those whose writing
  process no longer runs);
* the file gets the **permissions of an ordinary new file** (0666 minus the
  umask, as ``np.save`` and ``open`` give), not ``tempfile``'s private 0600;
* **saving onto a symbolic link writes the file the link points to** (the
  link stays a link and shows the new contents -- what ``np.save`` does too);
  the replacement is atomic in the folder of that file.
"""
from __future__ import annotations

import errno
import os
import secrets
from typing import BinaryIO, Callable

__all__ = ["atomic_write", "temporary_name_prefix"]


def temporary_name_prefix(target: str) -> str:
    """The prefix of every temporary file written for ``target`` (a full path)."""
    folder, name = os.path.split(target)
    return os.path.join(folder, f".{name}.tmp-")


def _pid_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True                  # someone else's live process (or we cannot tell)
    return True


def _remove_stale_temporaries(target: str) -> None:
    prefix = temporary_name_prefix(target)
    folder, stem = os.path.split(prefix)
    try:
        names = os.listdir(folder or ".")
    except OSError:
        return
    for name in names:
        if not name.startswith(stem):
            continue
        pid_text = name[len(stem):].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_running(int(pid_text)):
            try:
                os.unlink(os.path.join(folder, name))
            except OSError:
                pass                 # already gone, or not ours to remove


def _with_target(err: OSError, path: str, what: str) -> OSError:
    """The same kind of OSError, naming ``path`` (the user's target)."""
    new = type(err)(err.errno, f"{what} {path!r} failed: {err.strerror or err}")
    new.filename = path
    return new


def atomic_write(path: str | os.PathLike[str], write: Callable[[BinaryIO], None]) -> None:
    """Call ``write(binary_file)`` and put the result at ``path`` atomically."""
    given = os.fspath(path)
    target = os.path.realpath(given) if os.path.islink(given) else os.path.abspath(given)
    if os.path.isdir(target):
        raise IsADirectoryError(errno.EISDIR, f"cannot save to {given!r}: it is a folder",
                                given)
    _remove_stale_temporaries(target)
    tmp = f"{temporary_name_prefix(target)}{os.getpid()}-{secrets.token_hex(4)}"
    try:
        # mode 0o666: the umask applies, as for any new file (mkstemp would give 0600)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0),
                     0o666)
    except OSError as err:
        raise _with_target(err, given, "saving to") from err
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException as err:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(err, OSError):
            raise _with_target(err, given, "saving to") from err
        raise
