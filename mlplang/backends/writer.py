"""Writing emitted files: all or nothing.

Every file is first written to a temporary file in its target folder, then
all are renamed into place. A failure before the renames removes the
temporary files and leaves the folder as it was; renames within one folder
are atomic, so no reader ever sees half a file. A failure during the renames
puts back the files already replaced (from copies taken just before) and
removes the ones that did not exist, so the folder again holds what it held.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from mlplang.backends.base import EmittedFile


class WriteError(Exception):
    """The output could not be written (reported with exit code 2)."""


def _file_mode() -> int:
    """What `open()` would give a new file: mkstemp creates files as 0600,
    which would leave generated files unreadable to the rest of a team."""
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def write_files(directory: Path, files: list[EmittedFile]) -> list[Path]:
    staged: list[tuple[Path, Path]] = []
    backups: dict[Path, Path] = {}
    replaced: list[Path] = []
    try:
        mode = _file_mode()
        for emitted in files:
            target = directory / emitted.path
            target.parent.mkdir(parents=True, exist_ok=True)
            handle, temporary = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
            staged.append((Path(temporary), target))
            with os.fdopen(handle, "w", encoding="utf-8", newline="\n") as stream:
                stream.write(emitted.content)
                stream.flush()
                os.fsync(stream.fileno())
            os.chmod(temporary, mode)
        for _, target in staged:
            if target.exists() and target not in backups:
                handle, backup = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".bak", dir=target.parent)
                os.close(handle)
                backups[target] = Path(backup)
                _keep_copy(target, Path(backup))
        for temporary, target in staged:
            os.replace(temporary, target)
            replaced.append(target)
    except (OSError, KeyboardInterrupt) as error:
        _roll_back(replaced, backups)
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for backup in backups.values():
            backup.unlink(missing_ok=True)
        if isinstance(error, KeyboardInterrupt):
            raise
        raise WriteError(f"cannot write to {directory}: {error.strerror or error}") from error
    for backup in backups.values():
        backup.unlink(missing_ok=True)
    return [target for _, target in staged]


def _keep_copy(target: Path, backup: Path) -> None:
    """The file at `target` kept under the name `backup` (which exists, empty): a
    second name for the same file where the file system allows it (nothing is
    copied, however large; the rename over `target` leaves the old file to this
    name), else a copy."""
    try:
        os.unlink(backup)
        os.link(target, backup, follow_symlinks=False)
    except OSError:
        shutil.copy2(target, backup)


def _roll_back(replaced: list[Path], backups: dict[Path, Path]) -> None:
    """Best effort: restore what each replaced target held before."""
    for target in reversed(replaced):
        try:
            if target in backups:
                os.replace(backups[target], target)
            else:
                target.unlink(missing_ok=True)
        except OSError:
            pass
