"""The Suomi.fi Messages system password, kept in a file and rotated through the API (issue 20).

The service asks client systems to rotate the REST API password regularly (at least yearly, better
automated: "the API features a separate endpoint for password rotation",
https://kehittajille.suomi.fi/services/messages/maintenance/technical-maintenance). The call is
`POST /v1/change-password {"accessToken", "currentPassword", "newPassword"}` with the access token in
the body, not in a header (as the City of Espoo's eVaka and the City of Helsinki's client send it);
a new password is at least 32 characters with a lower-case and an upper-case letter, a digit and a
symbol (the Helsinki client's documentation of the rule).

`PasswordFile(path)` holds the current password (mode 0600). `rotate(adapter)` writes the new password
to `<path>.pending` first, then changes it at Suomi.fi, then moves it into place: a process that dies
in between leaves the pending file, and `current(adapter)` then tries it: if Suomi.fi accepts it the
change went through and it becomes current; if not, the old password still holds.
"""
from __future__ import annotations

import os
import secrets
import string
from pathlib import Path

SYMBOLS = "!#%&()*+,-./:;<=>?@[]^_{|}~"
LENGTH = 40


def new_password(length: int = LENGTH) -> str:
    """A random password with at least one of each class the service requires."""
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits, SYMBOLS]
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice("".join(classes)) for _ in range(length - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _write_secret(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text + "\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


class PasswordFile:
    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self.pending = self.path.with_name(self.path.name + ".pending")

    def read(self) -> str:
        return self.path.read_text().strip()

    def current(self, adapter=None) -> str:
        """The password to use; a pending one left by an interrupted rotation is promoted when the
        service accepts it (checked with `adapter.check_password`)."""
        if self.pending.exists() and adapter is not None:
            candidate = self.pending.read_text().strip()
            if adapter.check_password(candidate):
                _write_secret(self.path, candidate)
            self.pending.unlink(missing_ok=True)
        return self.read()

    def rotate(self, adapter) -> None:
        """Change the password at Suomi.fi and keep the new one; the adapter uses it from now on."""
        current = self.current(adapter)
        fresh = new_password()
        _write_secret(self.pending, fresh)
        adapter.change_password(current, fresh)  # raises if the service refused it: the old one holds
        _write_secret(self.path, fresh)
        self.pending.unlink(missing_ok=True)
