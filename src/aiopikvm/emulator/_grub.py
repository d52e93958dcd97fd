"""GRUB 2 as an Ubuntu live-server ISO boots it, for the emulated Ubuntu installer: the
menu, its entry editor, and how the edited ``linux`` line becomes the kernel's command line.

The facts an unattended Ubuntu install depends on, kept as GRUB has them:

- ``e`` on the menu opens the highlighted entry's commands; the ``linux`` line is the
  fourth (``setparams``, a blank line, ``set gfxpayload=keep``), so a boot command goes
  ``<down><down><down><end>`` before it appends anything; Ctrl-X or F10 boots the edited
  entry, Escape discards the edits.
- GRUB reads those lines as its own script: ``;`` ends a command, so
  ``ds=nocloud;s=http://...`` typed bare reaches the kernel as ``ds=nocloud`` alone (the
  rest, ``s=...``, is a variable assignment to GRUB, silently), and cloud-init finds no seed
  and the installer goes interactive. Written ``ds=nocloud\\;s=...`` or in quotes it
  arrives whole. A backslash escapes the next character; quotes group and are removed.
- cloud-init's NoCloud source takes its seed from ``ds=nocloud;s=<url>`` (``seedfrom=``
  too; ``nocloud-net`` is the older name) and fetches ``<url>user-data`` and
  ``<url>meta-data`` by plain concatenation: a seed URL without its trailing ``/`` asks
  for ``.../seeduser-data``.
"""

from __future__ import annotations

from typing import Final

ENTRIES: Final = ("Try or Install Ubuntu Server", "Ubuntu Server with the HWE kernel")
_KERNELS: Final = ("/casper/vmlinuz", "/casper/hwe-vmlinuz")
_HEAD: Final = "GNU GRUB  version 2.12\n\n"
MENU_HELP: Final = (
    "Use the Up and Down keys to select which entry is highlighted.\n"
    "Press enter to boot the selected OS, `e' to edit the commands\n"
    "before booting or `c' for a command-line."
)
EDITOR_HELP: Final = (
    "Minimum Emacs-like screen editing is supported. TAB lists\n"
    "completions. Press Ctrl-x or F10 to boot, Ctrl-c or F2\n"
    "for a command-line or ESC to discard edits and return\n"
    "to the GRUB menu."
)
COUNTDOWN: Final = "The highlighted entry will be executed automatically in"


def menu(selected: int, seconds: int | None) -> str:
    """The menu with entry ``selected`` highlighted and ``seconds`` of its countdown left
    (``None``: stopped, as any key stops it)."""
    rows = "".join(f" {'*' if n == selected else ' '}{name}\n" for n, name in enumerate(ENTRIES))
    countdown = "" if seconds is None else f"\n{COUNTDOWN} {seconds}s."
    return f"{_HEAD}{rows}\n{MENU_HELP}{countdown}\n"


def entry(selected: int) -> list[str]:
    """The commands of entry ``selected``, as ``e`` shows them for editing."""
    return [
        f"setparams '{ENTRIES[selected]}'",
        "",
        "        set gfxpayload=keep",
        f"        linux   {_KERNELS[selected]}  ---",
        "        initrd  /casper/initrd",
    ]


class Editor:
    """GRUB's entry editor: lines, and a cursor that moves and inserts as GRUB's does."""

    def __init__(self, lines: list[str], limit: int) -> None:
        self.lines = list(lines)
        self.limit = limit  # characters a line holds at most; more are dropped
        self.row = 0
        self.column = 0

    def screen(self) -> str:
        body = "".join(f" {line}\n" for line in self.lines)
        return f"{_HEAD}{body}\n{EDITOR_HELP}\n"

    def insert(self, text: str) -> None:
        line = self.lines[self.row]
        if len(line) >= self.limit:
            return
        self.lines[self.row] = line[: self.column] + text + line[self.column :]
        self.column += len(text)

    def backspace(self) -> None:
        if self.column > 0:
            line = self.lines[self.row]
            self.lines[self.row] = line[: self.column - 1] + line[self.column :]
            self.column -= 1
        elif self.row > 0:  # joins the line to the one above, as GRUB does
            above = self.lines[self.row - 1]
            self.lines[self.row - 1 : self.row + 1] = [above + self.lines[self.row]]
            self.row, self.column = self.row - 1, len(above)

    def delete(self) -> None:
        line = self.lines[self.row]
        if self.column < len(line):
            self.lines[self.row] = line[: self.column] + line[self.column + 1 :]
        elif self.row + 1 < len(self.lines):
            self.lines[self.row : self.row + 2] = [line + self.lines[self.row + 1]]

    def newline(self) -> None:
        line = self.lines[self.row]
        self.lines[self.row : self.row + 1] = [line[: self.column], line[self.column :]]
        self.row, self.column = self.row + 1, 0

    def move(self, key: str) -> None:
        """ArrowUp/Down/Left/Right, Home or End (Ctrl-P/N/B/F/A/E are the same)."""
        if key == "ArrowUp" and self.row > 0:
            self.row -= 1
        elif key == "ArrowDown" and self.row + 1 < len(self.lines):
            self.row += 1
        elif key == "ArrowLeft" and self.column > 0:
            self.column -= 1
        elif key == "ArrowRight" and self.column < len(self.lines[self.row]):
            self.column += 1
        elif key == "Home":
            self.column = 0
        elif key == "End":
            self.column = len(self.lines[self.row])
        self.column = min(self.column, len(self.lines[self.row]))


def kernel_arguments(lines: list[str]) -> list[str] | None:
    """The words after the kernel of the script's ``linux`` command, as GRUB passes them
    (``None``: the entry has no ``linux`` command left)."""
    for command in _commands("\n".join(lines)):
        if command and command[0] == "linux":
            return command[2:]
    return None


def _commands(script: str) -> list[list[str]]:
    """GRUB's script as commands of words: ``;`` and newlines end a command, a backslash
    escapes the next character, quotes group (and are dropped), ``#`` starts a comment."""
    commands: list[list[str]] = []
    words: list[str] = []
    word: list[str] | None = None  # None: between words ([] is an empty quoted word)
    quote = ""
    chars = iter(script)
    for char in chars:
        if quote and char == quote:
            quote = ""
        elif char == "\\" and quote != "'":
            word = [] if word is None else word
            word.append(next(chars, ""))
        elif quote:
            word = [] if word is None else word
            word.append(char)
        elif char in "\"'":
            quote, word = char, [] if word is None else word
        elif char == "#" and word is None:
            for char in chars:
                if char == "\n":
                    break
            commands.append(words)
            words = []
        elif char in " \t;\n":
            if word is not None:
                words.append("".join(word))
                word = None
            if char in ";\n":
                commands.append(words)
                words = []
        else:
            word = [] if word is None else word
            word.append(char)
    if word is not None:
        words.append("".join(word))
    commands.append(words)
    return [command for command in commands if command]


def nocloud_seed(arguments: list[str]) -> str | None:
    """The seed URL of cloud-init's NoCloud source on a kernel command line, if any."""
    for argument in arguments:
        name, _, value = argument.partition("=")
        if name != "ds":
            continue
        source, *pairs = value.split(";")
        if source not in ("nocloud", "nocloud-net"):
            continue
        for pair in pairs:
            key, _, url = pair.partition("=")
            if key in ("s", "seedfrom") and url:
                return url
    return None
