"""What the emulated installers show: the boot menus, prompts and installer screens of a
Debian netinst, a RHEL DVD and an Ubuntu live server (its GRUB screens: :mod:`._grub`), as
text for the target's console.

The phrases a scenario waits for are kept exactly (the emulator's contract with its users):
the menus' "Debian GNU/Linux installer menu" / "Press ESC for the boot prompt" and
"Install Red Hat Enterprise Linux" / "Press Tab for full configuration options", the
prompts ``boot: `` and ``> vmlinuz ...``, "Retrieving <url>", the progress steps,
"Installation complete", "Failed to retrieve the preconfiguration file",
"Failed to fetch kickstart from <url>" and "Select a language"; Ubuntu's "GNU GRUB",
"Continue with autoinstall? (yes|no)", "Install complete!", cloud-init's
"url_helper.py[WARNING]: Calling '<url>' failed" and subiquity's "select your language".
"""

from __future__ import annotations

from typing import Final

POST: Final = (
    "PiKVM emulated firmware\n"
    "Memory test: 4096M OK\n"
    "Booting from DVD/CD...\n"
    "ISOLINUX 6.04  Copyright (C) 1994-2015 H. Peter Anvin et al\n"
)

DEBIAN_LABELS: Final = frozenset(
    {"install", "auto", "expert", "rescue", "installgui", "autogui", "expertgui", "rescuegui"}
)
"""The labels of Debian's isolinux configuration that a ``boot:`` line can start with."""

KICKSTART_KERNEL_LINE: Final = "vmlinuz initrd=initrd.img inst.stage2=hd:LABEL=RHEL-9 quiet"
"""The default entry's kernel line, what Tab shows for editing."""

PROGRESS: Final = (
    "Installing the base system",
    "Installing software",
    "Installing the boot loader",
    "Finishing the installation",
)
COMPLETE: Final = "Installation complete"
UBUNTU_PROGRESS: Final = (
    "curtin command install",
    "configuring apt",
    "installing system",
    "final system configuration",
)
UBUNTU_COMPLETE: Final = "Install complete!"
_UBUNTU: Final = "Ubuntu Server 24.04 LTS"


def post(kind: str) -> str:
    """What the firmware shows before the boot menu."""
    if kind == "ubuntu":
        return POST.rsplit("ISOLINUX", 1)[0] + "GRUB loading.\n"
    return POST


def progress(kind: str) -> tuple[str, ...]:
    return UBUNTU_PROGRESS if kind == "ubuntu" else PROGRESS


def menu(kind: str, seconds: int | None) -> str:
    """The boot menu; ``seconds`` left before the default entry boots (``None``: no
    countdown)."""
    countdown = "" if seconds is None else f"Automatic boot in {seconds} seconds...\n"
    if kind == "debian":
        return (
            "Debian GNU/Linux installer menu (BIOS mode)\n\n"
            "  > Graphical install\n"
            "    Install\n"
            "    Advanced options\n"
            "    Accessible dark contrast installer menu\n"
            "    Help\n\n"
            "Press ESC for the boot prompt\n" + countdown
        )
    return (
        "Red Hat Enterprise Linux 9\n\n"
        "  > Install Red Hat Enterprise Linux 9\n"
        "    Test this media & install Red Hat Enterprise Linux 9\n"
        "    Troubleshooting\n\n"
        "Press Tab for full configuration options on menu items.\n" + countdown
    )


def prompt(kind: str, line: str, message: str = "") -> str:
    """The boot prompt (Debian) or the kernel line being edited (RHEL), with ``line``."""
    above = f"{message}\n" if message else ""
    if kind == "debian":
        return f"{above}boot: {line}"
    return f"{menu(kind, None)}\n{above}> {line}"


def not_found(kernel: str) -> str:
    return f"Could not find kernel image: {kernel}"


def installing(kind: str, url: str, done: int) -> str:
    """The installer fetching ``url`` and then ``done`` of its :func:`progress` steps."""
    if kind == "ubuntu":
        steps = "".join(f"{step}\n" for step in UBUNTU_PROGRESS[:done])
        return f"{_UBUNTU}\n\nsubiquity: autoinstall from {url}user-data\n" + steps
    head = (
        "Debian GNU/Linux installer\n\n"
        if kind == "debian"
        else "Starting installer, one moment...\nanaconda 34.25 for Red Hat Enterprise Linux 9\n\n"
    )
    return head + f"Retrieving {url}\n" + "".join(f"{step}\n" for step in PROGRESS[:done])


def complete(kind: str, url: str) -> str:
    done = UBUNTU_COMPLETE if kind == "ubuntu" else COMPLETE
    return installing(kind, url, len(progress(kind))) + f"\n{done}\n"


def cloud_init(seed: str) -> str:
    """Ubuntu booting, cloud-init reading its NoCloud seed."""
    return f"{_UBUNTU}\n\ncloud-init: NoCloud seed {seed}\n"


def cloud_init_failed(url: str, reason: str) -> str:
    """cloud-init's console warning when the seed did not answer, and subiquity asking:
    nothing unattended happens."""
    return (
        f"cloud-init: url_helper.py[WARNING]: Calling '{url}' failed: {reason}\n\n"
        + interactive("ubuntu")
    )


def confirm(line: str) -> str:
    """subiquity before an autoinstall that ``autoinstall`` on the kernel line did not
    confirm."""
    return f"{_UBUNTU}\n\nContinue with autoinstall? (yes|no) {line}"


def grub_no_kernel() -> str:
    return "error: you need to load the kernel first.\n\nPress any key to continue..."


def failed(kind: str, url: str | None, reason: str) -> str:
    """The screen the installer stops at when ``url`` (``None``: none was given) failed."""
    if kind == "debian":
        source = url or "the default location (no url= on the kernel command line)"
        return (
            "[!!] Download debconf preconfiguration file\n\n"
            "Failed to retrieve the preconfiguration file\n"
            "The file needed for preconfiguration could not be retrieved from\n"
            f"{source}\n"
            f"({reason}). The installation will proceed in non-automated mode.\n\n"
            "<Continue>\n"
        )
    return (
        "Starting installer, one moment...\n\n"
        f"Warning: Failed to fetch kickstart from {url}\n"
        f"Warning: {reason}\n"
        "Warning: dracut-initqueue timeout - starting timeout scripts\n"
    )


def interactive(kind: str) -> str:
    """The installer asking its first question: nothing unattended happened."""
    if kind == "ubuntu":
        return (
            "Willkommen! Bienvenue! Welcome! Welkom!\n\n"
            "Use UP, DOWN and ENTER keys to select your language.\n\n"
            "  > English\n"
            "    Deutsch\n"
            "    Francais\n"
        )
    if kind == "debian":
        return (
            "[!!] Select a language\n\n"
            "Choose the language to be used for the installation process.\n\n"
            "Language:\n"
            "    C\n"
            "  > English\n"
            "    Deutsch\n"
            "    Francais\n"
        )
    return (
        "WELCOME TO RED HAT ENTERPRISE LINUX 9\n\n"
        "Select a language\n"
        "What language would you like to use during the installation process?\n\n"
        "  > English (United States)\n"
        "    Deutsch (Deutschland)\n"
        "    Francais (France)\n"
    )
