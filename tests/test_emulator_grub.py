"""The emulated GRUB's script reading, as pure functions: what an edited ``linux`` line
hands the kernel, and the NoCloud seed cloud-init finds on it."""

from __future__ import annotations

import pytest

from aiopikvm.emulator._grub import Editor, entry, kernel_arguments, nocloud_seed

SEED = "http://10.0.0.2:8080/"


def edited(append: str) -> list[str]:
    lines = entry(0)
    lines[3] += append
    return lines


@pytest.mark.parametrize(
    ("append", "seed"),
    [
        (f" autoinstall ds=nocloud\\;s={SEED}", SEED),  # escaped: Packer's examples
        (f' autoinstall "ds=nocloud;s={SEED}"', SEED),  # quoted
        (f" autoinstall 'ds=nocloud-net;s={SEED}'", SEED),  # the older source name
        (f" ds=nocloud\\;seedfrom={SEED}", SEED),
        (f" autoinstall ds=nocloud;s={SEED}", None),  # GRUB ends the command at ';'
        (" autoinstall", None),
        (f" ds=ec2\\;s={SEED}", None),
    ],
)
def test_the_seed_that_reaches_the_kernel(append: str, seed: str | None) -> None:
    arguments = kernel_arguments(edited(append))
    assert arguments is not None and arguments[0] == "---"
    assert nocloud_seed(arguments) == seed


def test_words_as_grub_reads_them() -> None:
    lines = ["linux /vmlinuz a\\ b \"c d\" e''f # a comment", "initrd /initrd"]
    assert kernel_arguments(lines) == ["a b", "c d", "ef"]
    assert kernel_arguments(["initrd /initrd"]) is None
    assert kernel_arguments(["set x=1; linux /k quiet"]) == ["quiet"]


def test_the_editor_moves_and_edits_as_grub() -> None:
    editor = Editor(entry(0), 2048)
    for key in ("ArrowDown", "ArrowDown", "ArrowDown", "End"):
        editor.move(key)
    editor.insert(" quiet")
    assert editor.lines[3] == "        linux   /casper/vmlinuz  --- quiet"
    editor.backspace()
    editor.move("Home")
    editor.delete()  # the first of the line's leading spaces
    assert editor.lines[3] == "       linux   /casper/vmlinuz  --- quie"
    editor.newline()
    assert editor.lines[3:5] == ["", "       linux   /casper/vmlinuz  --- quie"]
    editor.backspace()  # joins it back
    assert editor.lines[3] == "       linux   /casper/vmlinuz  --- quie"
    editor.move("ArrowUp")
    editor.move("End")
    editor.move("ArrowDown")  # the column stays within the shorter line
    assert editor.column <= len(editor.lines[editor.row])
