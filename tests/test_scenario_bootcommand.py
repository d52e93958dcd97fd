"""Packer's boot_command grammar: the parser against Packer's own examples (the cases of
packer-plugin-sdk's bootcommand/boot_command_ast_test.go and its documentation), and the
``{{ .Var }}`` templates. Pure functions."""

from __future__ import annotations

import pytest

from aiopikvm.errors import InvalidInputError
from aiopikvm.protocol.keys import KEYS
from aiopikvm.scenario import CharToggle, Key, Text, Wait, parse_boot_command, render
from aiopikvm.scenario.bootcommand import SPECIAL_KEYS
from aiopikvm.scenario.template import parse_var


def _packer_strings(actions: list[object]) -> list[str]:
    """Our actions spelled as Packer's test prints its expressions."""
    out: list[str] = []
    for action in actions:
        if isinstance(action, Wait):
            out.append(f"Wait<{action.seconds:g}s>")
        elif isinstance(action, Text):
            out += [f"LIT-Press({char})" for char in action.text]
        elif isinstance(action, CharToggle):
            out.append(f"LIT-{'On' if action.on else 'Off'}({action.char})")
        elif isinstance(action, Key):
            state = {"press": "Press", "on": "On", "off": "Off"}[action.action]
            out.append(f"Spec-{state}({action.name})")
    return out


def test_packer_test_parse() -> None:
    command = (
        "<wait><wait20><wait3s><wait4m2ns>"
        "foo/bar > one 界"
        "<fon> b<fOff>"
        "<foo><f3><f12><spacebar><leftalt><rightshift><rightsuper><menu>"
    )
    expected = [
        "Wait<1s>",
        "Wait<20s>",
        "Wait<3s>",
        "Wait<240s>",  # 4m2ns: Go prints 4m0.000000002s
        *(f"LIT-Press({c})" for c in "foo/bar > one 界"),
        "LIT-On(f)",
        "LIT-Press( )",
        "LIT-Press(b)",
        "LIT-Off(f)",
        *(f"LIT-Press({c})" for c in "<foo>"),
        "Spec-Press(f3)",
        "Spec-Press(f12)",
        "Spec-Press(spacebar)",
        "Spec-Press(leftalt)",
        "Spec-Press(rightshift)",
        "Spec-Press(rightsuper)",
        "Spec-Press(menu)",
    ]
    actions = parse_boot_command(command)
    assert _packer_strings(actions) == expected
    assert actions[3] == Wait(240.000000002)


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("<rightShift><rightshift><RIGHTSHIFT>", "Spec-Press(rightshift)"),
        ("<delon><delON><deLoN><DELON>", "Spec-On(del)"),
        ("<enteroff><enterOFF><eNtErOfF><ENTEROFF>", "Spec-Off(enter)"),
    ],
)
def test_packer_test_special_any_case(command: str, expected: str) -> None:
    assert _packer_strings(parse_boot_command(command)) == [expected] * command.count("<")


def test_packer_test_validation() -> None:
    assert parse_boot_command("<wait1m>") == [Wait(60.0)]
    assert parse_boot_command("<f1>") == [Key("F1", "press", "f1")]
    assert parse_boot_command("<") == [Text("<")]
    with pytest.raises(InvalidInputError, match="negative wait"):
        parse_boot_command("<wait-1m>")


def test_packer_test_empty() -> None:
    assert parse_boot_command("") == []


def test_the_documented_examples() -> None:
    # Packer's docs: the boot_command of an Ubuntu and a CentOS build.
    ubuntu = parse_boot_command(
        "<esc><wait><esc><wait><enter><wait>/install/vmlinuz auto "
        "url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg<enter>"
    )
    assert ubuntu[:6] == [
        Key("Escape", "press", "esc"),
        Wait(1.0),
        Key("Escape", "press", "esc"),
        Wait(1.0),
        Key("Enter", "press", "enter"),
        Wait(1.0),
    ]
    assert ubuntu[6] == Text(
        "/install/vmlinuz auto url=http://{{ .HTTPIP }}:{{ .HTTPPort }}/preseed.cfg"
    )
    assert ubuntu[7] == Key("Enter", "press", "enter")
    centos = parse_boot_command(["<tab> text ks=hd:fd0:/ks.cfg", "<enter><wait10><esc>"])
    assert centos == [
        Key("Tab", "press", "tab"),
        Text(" text ks=hd:fd0:/ks.cfg"),
        Key("Enter", "press", "enter"),
        Wait(10.0),
        Key("Escape", "press", "esc"),
    ]
    grub = parse_boot_command("e<down><end> quiet<leftCtrlOn>x<leftCtrlOff><wait1m30s>")
    assert grub == [
        Text("e"),
        Key("ArrowDown", "press", "down"),
        Key("End", "press", "end"),
        Text(" quiet"),
        Key("ControlLeft", "on", "leftctrl"),
        Text("x"),
        Key("ControlLeft", "off", "leftctrl"),
        Wait(90.0),
    ]


def test_ordered_choice_as_packer_takes_it() -> None:
    # f10 before f1, leftAlt before left; a special key that does not close is text.
    assert parse_boot_command("<f10><f1On><left><leftAltOff>") == [
        Key("F10", "press", "f10"),
        Key("F1", "on", "f1"),
        Key("ArrowLeft", "press", "left"),
        Key("AltLeft", "off", "leftalt"),
    ]
    assert parse_boot_command("<leftx>") == [Text("<leftx>")]
    assert parse_boot_command("<Wait5>") == [Text("<Wait5>")]  # "wait" is lower case only
    assert parse_boot_command("<wait1.5s><wait0><wait500ms>") == [Wait(1.5), Wait(0), Wait(0.5)]


def test_every_special_key_is_a_kvmd_key() -> None:
    assert set(SPECIAL_KEYS.values()) <= KEYS
    packer = [
        "bs",
        "del",
        "enter",
        "esc",
        "f1",
        "f2",
        "f3",
        "f4",
        "f5",
        "f6",
        "f7",
        "f8",
        "f9",
        "f10",
        "f11",
        "f12",
        "return",
        "tab",
        "up",
        "down",
        "left",
        "right",
        "spacebar",
        "insert",
        "home",
        "end",
        "pageUp",
        "pageDown",
        "menu",
        "leftAlt",
        "rightAlt",
        "leftCtrl",
        "rightCtrl",
        "leftShift",
        "rightShift",
        "leftSuper",
        "rightSuper",
        "leftMeta",
        "rightMeta",
    ]
    for name in packer:
        assert parse_boot_command(f"<{name}>") == [
            Key(SPECIAL_KEYS[name.lower()], "press", name.lower())
        ]
        assert parse_boot_command(f"<{name}On>")[0] == Key(
            SPECIAL_KEYS[name.lower()], "on", name.lower()
        )


def test_templates() -> None:
    variables = {"HTTPIP": "10.0.0.5", "HTTPPort": "8000", "Name": "x"}
    assert render("http://{{ .HTTPIP }}:{{.HTTPPort}}/{{ .Name }}", variables) == (
        "http://10.0.0.5:8000/x"
    )
    with pytest.raises(InvalidInputError, match=r"no variable 'Nope'.*--var Nope=VALUE"):
        render("{{ .Nope }}", variables, where="step 3")
    with pytest.raises(InvalidInputError, match=r"step 3: .*only the \{\{ \.Name \}\} form"):
        render("{{ user `x` }}", variables, where="step 3")
    assert render("no braces { here }", {}) == "no braces { here }"


def test_parse_var() -> None:
    assert parse_var("ks=a=b.cfg") == ("ks", "a=b.cfg")
    for bad in ("novalue", "1x=2", "=v"):
        with pytest.raises(InvalidInputError, match="NAME=VALUE"):
            parse_var(bad)
