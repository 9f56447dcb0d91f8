"""Atomic file writes: write beside the destination, then publish it in one step (never a half-written file).

Publishing without ``overwrite`` uses a no-replace primitive (``os.link`` of the finished temporary file, then
unlinking the temporary name), so two processes writing the same path never silently replace each other:
the second one gets ``FileExistsError``. With ``overwrite`` it is ``os.replace``.

Temporary names carry the writer's process id (``.NAME.PID.RANDOM.tmp``); a writer killed by a signal that
cannot be caught leaves one behind, and the next write beside it removes those whose process is gone.
"""
from __future__ import annotations

import contextlib
import errno
import os
import re
import shutil
import tempfile
from pathlib import Path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def temp_prefix(path: Path) -> str:
    """The start of this process's temporary names for ``path``: ``.NAME.PID.``."""
    return f".{path.name}.{os.getpid()}."


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, ValueError):
        return True  # another user's process, or a number we cannot ask about: leave its file alone
    return True


#: ``.NAME.PID.RANDOM.tmp[SUFFIX]``, RANDOM being the 8 characters tempfile draws
_TEMP_NAME = re.compile(r"\..+\.(\d+)\.[a-z0-9_]{8}\.tmp(\.[^/]*)?")
_swept: set = set()


def remove_orphans(folder, again: bool = False) -> list:
    """Remove the temporary files and folders in ``folder`` whose writing process no longer runs.

    Done once per folder per process (``again`` forces another sweep), so writing many files into one
    folder does not rescan it each time. Returns what was removed.
    """
    folder = Path(folder) if str(folder) else Path(".")
    key = os.path.abspath(folder)
    if key in _swept and not again:
        return []
    _swept.add(key)
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _TEMP_NAME.fullmatch(entry.name)
        if match is None or _pid_alive(int(match.group(1))):
            continue
        with contextlib.suppress(OSError):
            if entry.is_dir(follow_symlinks=False):
                shutil.rmtree(entry.path)
            else:
                os.unlink(entry.path)
            removed.append(Path(entry.path))
    return removed


def publish(tmp, path, overwrite: bool) -> None:
    """Move the finished file ``tmp`` to ``path``: ``os.replace`` with ``overwrite``, else never replacing."""
    if overwrite:
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise FileExistsError(errno.EEXIST, f"{str(path)!r} already exists (another process may have written it "
                                            "meanwhile); pass --force (overwrite=True) to replace it") from None
    except OSError as e:  # a filesystem without hard links: reserve the name exclusively, then move onto it
        if e.errno not in (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EXDEV, errno.EMLINK):
            raise
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644))
        os.replace(tmp, path)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path, overwrite: bool = True):
    """Yield a temporary path for ``path``; on success it is published as ``path``, on error removed.

    The temporary file lies in a private folder ``.NAME.PID.RANDOM.tmp`` beside ``path``, so whatever a
    writer creates next to it (safetensors writes through its own ``.tmpXXXXXX`` and renames) is inside that
    folder too, and a killed writer's leftovers are one folder that :func:`remove_orphans` removes.
    With ``overwrite=False`` an existing ``path`` (even one created while the caller wrote) is never replaced:
    ``FileExistsError``.
    """
    path = Path(path)
    remove_orphans(path.parent)
    try:
        folder = tempfile.mkdtemp(prefix=temp_prefix(path), suffix=".tmp", dir=path.parent or ".")
    except OSError as e:
        raise OSError(e.errno, f"cannot write {str(path)!r}: {e.strerror}") from e
    tmp = os.path.join(folder, path.name)
    try:
        open(tmp, "wb").close()
        yield tmp
        os.chmod(tmp, 0o666 & ~_umask())  # a finished file gets the usual permissions
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        publish(tmp, path, overwrite)
    except BaseException as e:
        if isinstance(e, OSError) and not isinstance(e, FileExistsError) and folder in str(e):
            # a full disk, say: name the file the user asked for, not our temporary one
            raise OSError(e.errno, f"cannot write {str(path)!r}: {e.strerror}") from e
        raise
    finally:
        shutil.rmtree(folder, ignore_errors=True)


# ------------------------------------------------------------------------------------------- run folders
_STAGE = "aekit-run"  # staging folders are .aekit-run.PID.RANDOM.tmp inside the run folder


def _make_dirs(folder: Path) -> list:
    """Create ``folder`` and its missing parents; return those created, outermost first."""
    missing = [p for p in [folder, *folder.parents] if not p.exists()][::-1]
    created = []
    for p in missing:
        try:
            p.mkdir()
        except FileExistsError:
            continue
        created.append(p)
    return created


@contextlib.contextmanager
def staged_folder(out):
    """Yield a fresh hidden folder inside ``out`` to write a whole run into before :func:`publish_folder`.

    ``out`` (and missing parents) are created; on an error the staging folder and every folder this
    created are removed again when empty, so a failed run leaves nothing behind.
    """
    out = Path(out)
    created = _make_dirs(out)
    remove_orphans(out)
    try:
        stage = Path(tempfile.mkdtemp(prefix=temp_prefix(out / _STAGE), suffix=".tmp", dir=out))
    except BaseException:
        _remove_empty(created)
        raise
    try:
        yield stage
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        _remove_empty(created)
        raise
    shutil.rmtree(stage, ignore_errors=True)


def _remove_empty(folders: list) -> None:
    for folder in reversed(folders):
        try:
            folder.rmdir()
        except OSError:
            return


@contextlib.contextmanager
def publish_folder(stage, out, first: str, overwrite: bool, replaces=()):
    """Move every file of ``stage`` into ``out`` under an exclusive lock on ``out``; yield while holding it.

    ``first`` is published first, without replacing unless ``overwrite`` (two runs into one folder: the
    second fails here, before any of its files land). With ``overwrite``, files named in ``replaces``
    that this run does not bring are removed, so the folder never mixes two runs' files; writers that
    run in the ``with`` block (a report) still hold the lock.
    """
    import fcntl

    stage, out = Path(stage), Path(out)
    names = sorted(os.listdir(stage), key=lambda n: n != first)
    fd = os.open(out, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if overwrite:
            for stale in set(replaces) - set(names):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(out / stale)
        for name in names:
            publish(stage / name, out / name, overwrite=overwrite or name != first)
        yield out
    finally:
        os.close(fd)  # closing releases the lock
