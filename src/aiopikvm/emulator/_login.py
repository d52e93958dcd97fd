"""A text login on the emulated host, as getty and login(1) show one, for tests (and demos)
of agents that log in: ``HOST login:`` with the name echoed, ``Password:`` with nothing
echoed, then a shell prompt ``USER@HOST:~$`` — or ``Login incorrect`` and the prompt again.

The shell echoes what is typed and answers each line with a new prompt (``whoami`` with the
user's name; ``exit`` logs out). It runs on a :class:`~._target.Target` as the program the
host runs (:meth:`~._target.Target.run`); a power-on or a reset shows the login again::

    emu = Emulator()
    LoginPrompt(emu.target, {"agent": "s3cret"}).start()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from ._target import Target

BANNER: Final = "Debian GNU/Linux 12 {host} tty1\n\n"


class LoginPrompt:
    """The login and the shell behind it, on ``target``'s console."""

    def __init__(self, target: Target, users: Mapping[str, str], *, host: str = "target") -> None:
        self._target = target
        self._users = dict(users)
        self.host = host
        self.user: str | None = None
        """Who is logged in, or None at the login prompt."""
        self._stage = "login"  # login -> password -> shell
        self._name = ""
        self._line = ""

    def __repr__(self) -> str:
        return f"<LoginPrompt {self.host} user={self.user!r} stage={self._stage}>"

    def start(self) -> None:
        """Take the keyboard and show the login prompt."""
        self._target.run(self)
        self.boot()

    def boot(self) -> None:
        """The host (re)started: a cleared console, the banner and the login prompt."""
        self.user, self._line = None, ""
        self._target.clear_screen()
        self._target.write(BANNER.format(host=self.host))
        self._prompt_login()

    def halt(self) -> None:
        """The host powered off: whoever was logged in is gone."""
        self.user, self._line = None, ""

    def key(self, text: str) -> None:
        """What the keyboard typed (``"\\b"``: Backspace; Escape types nothing here)."""
        for char in text:
            if char != "\x1b":
                self._key(char)

    def _key(self, char: str) -> None:
        echo = self._stage != "password"
        if char == "\b":
            if self._line:
                self._line = self._line[:-1]
                if echo:
                    self._target.erase()
            return
        if char != "\n":
            self._line += char
            if echo:
                self._target.write(char)
            return
        self._target.write("\n")
        line, self._line = self._line, ""
        if self._stage == "login":
            self._name = line.strip()
            self._stage = "password"
            self._target.write("Password: ")
        elif self._stage == "password":
            self._password(line)
        else:
            self._command(line.strip())

    def _password(self, given: str) -> None:
        if self._users.get(self._name) == given and self._name:
            self.user, self._stage = self._name, "shell"
            self._target.write(f"Linux {self.host} 6.1.0-13-amd64 x86_64\n\n")
            self._prompt_shell()
            return
        self._target.write("Login incorrect\n\n")
        self._prompt_login()

    def _command(self, command: str) -> None:
        if command == "exit":
            self.user = None
            self._target.write("logout\n\n")
            self._prompt_login()
            return
        if command == "whoami":
            self._target.write(f"{self.user}\n")
        elif command:
            self._target.write(f"-bash: {command.split()[0]}: command not found\n")
        self._prompt_shell()

    def _prompt_login(self) -> None:
        self._stage, self._name = "login", ""
        self._target.write(f"{self.host} login: ")

    def _prompt_shell(self) -> None:
        self._target.write(f"{self.user}@{self.host}:~$ ")
