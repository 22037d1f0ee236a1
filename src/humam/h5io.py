"""Self-describing HDF5 files written atomically, shared by every stage's output, and checked readers.

:func:`atomic_h5` yields an open file that is written under a temporary name ``.<name>.<pid>.tmp``
in the target folder and moved into place (``os.replace``) only when the block finishes without
error, so a reader never sees a half-written result under the final name; :func:`atomic_write_text`
does the same for text and JSON. The temporary file is removed on any error, temporaries left by
killed processes are removed by the next write into the folder, and a full disk, a missing
permission or a folder that cannot be created raise :class:`~humam.errors.OutputError`.

:func:`open_h5` and :func:`read_json` turn every way a file can be bad (missing, truncated, not
HDF5 or JSON at all, of another kind or format version) into
:class:`~humam.errors.FileFormatError` with a one-line message saying which file, what is wrong
and how to fix it; :func:`is_readable_h5` is the same check as a yes/no answer.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import re
import time
from pathlib import Path

import h5py
import numpy as np

from .errors import FileFormatError, OutputError

RESERVED_ATTRS = ("file_type", "format_version")
#: What to do about an unreadable output unless the caller says better.
DEFAULT_FIX = ("rebuild it: rerun the command with --force (or the doit task), or delete the file's folder "
               "and rerun")
#: A temporary ``.<name>.<pid>.tmp`` whose process is gone is removed once it is this old (s); the age
#: spares a temporary that a process on another machine sharing the folder is writing right now.
STALE_TEMPORARY_AGE_S = 300.0

_TEMPORARY = re.compile(r"^\..+\.(\d+)\.tmp$")
_NO_SPACE = {errno.ENOSPC, errno.EDQUOT}
_NO_PERMISSION = {errno.EACCES, errno.EPERM, errno.EROFS}


def json_default(value):
    """JSON encoder fallback for NumPy scalars and arrays and paths."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def attribute_value(value):
    """``value`` as an HDF5 attribute: scalars and strings as they are, anything else as JSON."""
    if isinstance(value, (str, bool, int, float, np.number)):
        return value
    return json.dumps(value, sort_keys=True, default=json_default)


# ---------------------------------------------------------------------------------------------
# Writing


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _errno(exc: OSError) -> int | None:
    """The errno of ``exc``, also where HDF5 only names it in the message (``errno = 28``)."""
    if exc.errno is not None:
        return exc.errno
    found = re.search(r"errno\s*=\s*(\d+)", str(exc))
    return int(found.group(1)) if found else None


def output_error(exc: OSError, path: Path, action: str = "write") -> OutputError | None:
    """The :class:`OutputError` for a failed ``action`` ("write", "create the folder") on ``path``;
    None if ``exc`` is not about space or permission."""
    code, text = _errno(exc), str(exc).lower()
    reason = os.strerror(code) if code is not None else _one_line(exc)
    if code in _NO_SPACE or "no space left" in text or "quota exceeded" in text:
        return OutputError(f"Cannot {action} {path}: {reason}. Free space on that file system or choose another "
                           f"output folder (--out).")
    if code in _NO_PERMISSION or "permission denied" in text or "read-only file system" in text:
        return OutputError(f"Cannot {action} {path}: {reason}. Make its folder writable or choose another output "
                           f"folder (--out).")
    return None


def _make_folder(folder: Path) -> Path:
    """``folder``, created with its parents; OutputError if that is impossible."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        blocker = next((p for p in [folder, *folder.parents] if p.exists() and not p.is_dir()), folder)
        raise OutputError(f"Cannot create the folder {folder}: {blocker} is a file, not a folder. Move that file "
                          f"away or choose another output folder (--out).") from None
    except OSError as exc:
        error = output_error(exc, folder, "create the folder")
        if error is None:
            raise
        raise error from exc
    return folder


def _process_is_gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError):
        return False
    return False


def remove_stale_temporaries(folder: str | Path, min_age_s: float = STALE_TEMPORARY_AGE_S) -> list[Path]:
    """Remove the temporaries ``.<name>.<pid>.tmp`` in ``folder`` (any name) whose process no longer
    runs on this machine and that were last modified at least ``min_age_s`` seconds ago; returns them."""
    removed = []
    now = time.time()
    with contextlib.suppress(OSError):
        for entry in os.scandir(folder):
            found = _TEMPORARY.match(entry.name)
            if not found or int(found.group(1)) == os.getpid() or not _process_is_gone(int(found.group(1))):
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime >= min_age_s and entry.is_file():
                    os.unlink(entry.path)
                    removed.append(Path(entry.path))
    return removed


@contextlib.contextmanager
def _atomic_path(path: Path):
    """Yield a temporary path beside ``path``; on success it is synced and moved to ``path``, on any
    error removed. Space, permission and folder problems become OutputError."""
    folder = _make_folder(path.parent)
    remove_stale_temporaries(folder)
    tmp = folder / f".{path.name}.{os.getpid()}.tmp"
    try:
        yield tmp
        with open(tmp, "rb") as stream:
            os.fsync(stream.fileno())
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        ours = isinstance(exc, OSError) and getattr(exc, "filename", None) in (None, str(tmp), str(path), str(folder))
        error = output_error(exc, path) if ours else None
        if error is None:
            raise
        raise error from exc


def ensure_writable_dir(path: str | Path) -> Path:
    """The folder ``path``, created if needed and checked writable by writing and removing a small
    probe file; OutputError (one line: which folder, why, what to do) otherwise. For callers that
    must know before expensive work; a nearly full disk can still fail later."""
    folder = _make_folder(Path(path))
    probe = folder / f".write-probe.{os.getpid()}.tmp"
    try:
        with open(probe, "wb") as stream:
            stream.write(b"\0" * 4096)
            stream.flush()
            os.fsync(stream.fileno())
    except OSError as exc:
        error = output_error(exc, folder) or OutputError(
            f"Cannot write into {folder}: {os.strerror(exc.errno) if exc.errno else _one_line(exc)}. "
            f"Choose another output folder (--out).")
        raise error from exc
    finally:
        with contextlib.suppress(OSError):
            probe.unlink(missing_ok=True)
    return folder


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically, with the guarantees of :func:`atomic_h5`."""
    path = Path(path)
    with _atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def check_free_space(folder: Path, needed_bytes: float, path: Path) -> None:
    """OutputError unless the file system of ``folder`` has room for ``needed_bytes`` (plus 10 % and
    1 MB): HDF5 cannot recover from a full disk in the middle of a write (it may crash the process),
    so large files are checked before they are written."""
    stats = os.statvfs(folder)
    free = stats.f_bavail * stats.f_frsize
    if free < 1.1 * needed_bytes + 1e6:
        raise OutputError(f"Cannot write {path}: No space left on device (about {needed_bytes / 1e6:.1f} MB needed, "
                          f"{free / 1e6:.1f} MB free). Free some space or choose another output folder (--out).")


@contextlib.contextmanager
def atomic_h5(path: str | Path, file_type: str, format_version: int, attrs: dict | None = None,
              expected_bytes: float | None = None):
    """Write an HDF5 file at ``path`` atomically; yields the open ``h5py.File``.

    ``attrs`` become file attributes (non-scalars as JSON) next to ``file_type`` and
    ``format_version``, which are reserved. HDF5 does not survive a full disk in the middle of a
    write, so the file is built in memory and written to disk with ordinary file I/O (a full disk
    is then a clean OutputError); files too large to hold twice in memory (spike files of large
    runs) pass ``expected_bytes`` instead, are checked against the free space and written directly.
    """

    path = Path(path)
    attrs = dict(attrs or {})
    clash = sorted(set(attrs) & set(RESERVED_ATTRS))
    if clash:
        raise ValueError(f"attribute name(s) {', '.join(clash)} are reserved by the "
                         f"{file_type.rsplit('.', 1)[-1]} file format")
    with _atomic_path(path) as tmp:
        in_memory = expected_bytes is None
        if not in_memory:
            check_free_space(tmp.parent, expected_bytes, path)
        target = io.BytesIO() if in_memory else tmp
        with h5py.File(target, "w", track_order=True) as h5:
            h5.attrs["file_type"] = file_type
            h5.attrs["format_version"] = format_version
            for key, value in attrs.items():
                h5.attrs[key] = attribute_value(value)
            yield h5
        if in_memory:
            with open(tmp, "wb") as stream:
                stream.write(target.getbuffer())


# ---------------------------------------------------------------------------------------------
# Reading


def _attribute_text(value) -> str | None:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value.item()
    return value if isinstance(value, str) else None


@contextlib.contextmanager
def open_h5(path: str | Path, file_type: str, format_version: int, fix: str = DEFAULT_FIX):
    """Open a file written by :func:`atomic_h5` for reading, checking its type and version.

    FileFormatError (``"<path>: <what is wrong>; <fix>."``) if the file is missing, not a file,
    not HDF5 (e.g. a text file or empty), truncated or corrupt, a foreign HDF5 file, a humam file of
    another kind, or of another format version.
    """
    path = Path(path)
    kind = file_type.rsplit(".", 1)[-1]

    def bad(what: str) -> FileFormatError:
        return FileFormatError(f"{path}: {what}; {fix}.")

    if not path.exists():
        raise bad(f"the {kind} file does not exist")
    if not path.is_file():
        raise bad(f"expected a {kind} file, found a folder or other non-file")
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as exc:
        raise bad(f"the {kind} file cannot be read ({_one_line(exc)})") from None
    if not is_hdf5:
        raise bad(f"not an HDF5 file (empty, truncated or of another format), so not a humam {kind} file")
    try:
        h5 = h5py.File(path, "r")
    except OSError as exc:
        raise bad(f"the HDF5 file cannot be opened ({_one_line(exc)})") from None
    with h5:
        found_type = _attribute_text(h5.attrs.get("file_type"))
        if found_type is None:
            raise bad(f"an HDF5 file without a humam file_type, so not a humam {kind} file")
        if found_type != file_type:
            raise bad(f"a {found_type} file, not a {file_type} file")
        try:
            version = int(h5.attrs.get("format_version"))
        except (TypeError, ValueError):
            version = None
        if version != format_version:
            raise bad(f"{kind} format version {version}, but this humam reads version {format_version}")
        yield h5


def is_readable_h5(path: str | Path, file_type: str, format_version: int) -> bool:
    """Whether :func:`open_h5` accepts ``path``: for skipping work only when a cached output really opens."""
    try:
        with open_h5(path, file_type, format_version):
            return True
    except FileFormatError:
        return False


def read_json(path: str | Path, kind: str = "JSON record", fix: str = DEFAULT_FIX) -> dict:
    """The JSON object in ``path`` (e.g. a ``run.json``); FileFormatError (``"<path>: <what is wrong>;
    <fix>."``) if it is missing, empty, not valid JSON or not an object. ``kind`` names the file in
    messages."""
    path = Path(path)

    def bad(what: str) -> FileFormatError:
        return FileFormatError(f"{path}: {what}; {fix}.")

    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise bad(f"the {kind} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise bad(f"the {kind} cannot be read ({_one_line(exc)})") from None
    if not text.strip():
        raise bad(f"the {kind} is empty (a write was interrupted)")
    try:
        content = json.loads(text)
    except json.JSONDecodeError as exc:
        raise bad(f"the {kind} is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})") from None
    if not isinstance(content, dict):
        raise bad(f"the {kind} holds a JSON {type(content).__name__}, not an object")
    return content


def write_tree(group, tree: dict) -> None:
    """Write a nested dict into an HDF5 group: dicts become groups, None an empty dataset marked
    ``none``, strings and string arrays variable-length strings, arrays above 4,096 elements
    gzip-compressed datasets."""
    for key, value in tree.items():
        if isinstance(value, dict):
            write_tree(group.create_group(key), value)
        elif value is None:
            dataset = group.create_dataset(key, data=h5py.Empty("f8"))
            dataset.attrs["none"] = True
        elif isinstance(value, str):
            group.create_dataset(key, data=value, dtype=h5py.string_dtype())
        elif isinstance(value, np.ndarray) and value.dtype.kind in "US":
            group.create_dataset(key, data=value.astype(object), dtype=h5py.string_dtype())
        else:
            array = np.asarray(value)
            options = {"compression": "gzip", "compression_opts": 1, "shuffle": True} if array.size > 4096 else {}
            group.create_dataset(key, data=array, **options)


def read_tree(group) -> dict:
    """The nested dict written by :func:`write_tree` (scalars as Python numbers, strings as str)."""
    tree = {}
    for key, item in group.items():
        if isinstance(item, h5py.Group):
            tree[key] = read_tree(item)
        elif item.attrs.get("none", False):
            tree[key] = None
        elif item.dtype.kind == "O" or h5py.check_string_dtype(item.dtype) is not None:
            value = item.asstr()[()]
            tree[key] = np.array(value, dtype=str) if isinstance(value, np.ndarray) else value
        else:
            value = item[()]
            tree[key] = value.item() if isinstance(value, np.generic) else value
    return tree
