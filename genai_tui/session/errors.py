"""SessionError: one line for the user, and a hint that fits what failed (reading or writing).

A file that cannot be read is left as it is and may need repair; a folder that cannot be written
holds a file that is fine, and the fix is space, permissions or another sessions folder.
"""

from __future__ import annotations

import errno

DAMAGED_HINT = "the session file was left as it was; open another session or repair it"
"""For a session.json that is there but cannot be understood."""

OTHER_FOLDER = "choose another --sessions-dir"


class SessionError(Exception):
    """A session that cannot be opened, read or saved; str() is one line for the user."""

    def __init__(self, message: str, hint: str = "") -> None:
        # Keep it to one line whatever the cause (pydantic and OS messages can hold newlines).
        super().__init__(" ".join(message.split()))
        self.hint = " ".join(hint.split())
        """What the user can do about it; '' when the message says it all."""


def write_hint(error: OSError) -> str:
    """What to do when writing in a session folder failed with `error`."""
    code = error.errno
    if code == errno.EROFS:
        return f"the session folder is on a read-only disk: {OTHER_FOLDER}"
    if code in (errno.EACCES, errno.EPERM):
        return f"the session folder is read-only for you: fix its permissions or {OTHER_FOLDER}"
    if code in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return "the disk is full: free some space (images already saved are safe)"
    if code in (errno.ENOTDIR, errno.EEXIST):
        return f"a file stands where the session folder should be: {OTHER_FOLDER}"
    return f"check that the session folder can be written, or {OTHER_FOLDER}"


def read_hint(error: OSError) -> str:
    """What to do when a session.json that is there could not be read."""
    if error.errno in (errno.EACCES, errno.EPERM):
        return "the session file is not readable for you: fix its permissions"
    return "the session file was left as it was; check the disk, or open another session"


def write_failed(session: str, what: str, error: OSError) -> SessionError:
    """The SessionError for a failed write: the OS's reason, and a hint about the folder (the
    session file itself is fine)."""
    return SessionError(
        f'session "{session}": {what}: {error.strerror or error}', write_hint(error)
    )
