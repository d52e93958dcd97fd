#!/usr/bin/env python3
"""Generate the keyboard-layout tables in src/aiopikvm/protocol/layouts/ from xkeyboard-config.

Dev-time only (stdlib, nothing here ships). Needs the Debian packages ``xkb-data``
(the layouts), ``x11proto-dev`` (keysymdef.h, for keysym -> Unicode) and ``libx11-data``
(the Compose table, for dead keys)::

    apt-get install -y xkb-data x11proto-dev libx11-data
    python3 scripts/gen_layouts.py

The output is one JSON file per kvmd keymap name. Each maps a kvmd key name to its
levels 1-4 (plain, Shift, AltGr, AltGr+Shift): a character, ``"dead:"`` plus the dead
key's xkb name, or null. Trailing nulls are dropped. ``_compose.json`` holds the Compose
sequences over those symbols, ``_sources.json`` the package versions; see the README the
script writes next to them.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

XKB_ROOT = Path("/usr/share/X11/xkb")
KEYSYMDEF = Path("/usr/include/X11/keysymdef.h")
LOCALE_ROOT = Path("/usr/share/X11/locale")
COMPOSE_LOCALE = "en_US.UTF-8"
COMPOSE_FILE = "_compose.json"
SOURCES_FILE = "_sources.json"
# Debian packages the output is generated from; their versions go into SOURCES_FILE.
PACKAGES = ("libx11-data", "x11proto-dev", "xkb-data")
OUT_DIR = Path(__file__).resolve().parent.parent / "src" / "aiopikvm" / "protocol" / "layouts"

# kvmd keymap name -> xkb "file(variant)"; None variant = the file's default section.
LAYOUTS: dict[str, tuple[str, str | None]] = {
    "ar": ("ara", None),
    "bepo": ("fr", "bepo"),
    "cz": ("cz", None),
    "da": ("dk", None),
    "de": ("de", None),
    "de-ch": ("ch", "de"),
    "en-gb": ("gb", None),
    "en-us": ("us", None),
    "en-us-altgr-intl": ("us", "altgr-intl"),
    "en-us-colemak": ("us", "colemak"),
    "es": ("es", None),
    "et": ("ee", None),
    "fi": ("fi", None),
    "fo": ("fo", None),
    "fr": ("fr", None),
    "fr-be": ("be", None),
    "fr-ca": ("ca", "fr"),
    "fr-ch": ("ch", "fr"),
    "hr": ("hr", None),
    "hu": ("hu", None),
    "is": ("is", None),
    "it": ("it", None),
    "ja": ("jp", None),
    "lt": ("lt", None),
    "lv": ("lv", None),
    "mk": ("mk", None),
    "nl": ("nl", None),
    "no": ("no", None),
    "pl": ("pl", None),
    "pt": ("pt", None),
    "pt-br": ("br", None),
    "ru": ("ru", None),
    "sl": ("si", None),
    "sv": ("se", None),
    "th": ("th", None),
    "tr": ("tr", None),
}

# xkb keycode -> kvmd key name. <AC12> and <HZTG> are evdev aliases, resolved first.
KEYCODES: dict[str, str] = {
    "TLDE": "Backquote",
    **{f"AE{i:02d}": f"Digit{i % 10}" for i in range(1, 11)},
    "AE11": "Minus",
    "AE12": "Equal",
    "AE13": "IntlYen",
    **{f"AD{i:02d}": f"Key{c}" for i, c in enumerate("QWERTYUIOP", 1)},
    "AD11": "BracketLeft",
    "AD12": "BracketRight",
    "BKSL": "Backslash",
    **{f"AC{i:02d}": f"Key{c}" for i, c in enumerate("ASDFGHJKL", 1)},
    "AC10": "Semicolon",
    "AC11": "Quote",
    **{f"AB{i:02d}": f"Key{c}" for i, c in enumerate("ZXCVBNM", 1)},
    "AB08": "Comma",
    "AB09": "Period",
    "AB10": "Slash",
    "AB11": "IntlRo",
    "LSGT": "IntlBackslash",
    "SPCE": "Space",
}

# The rules file puts "pc" under every layout (pc+us, pc+de, ...), and some layouts rely on
# it: fr(basic) has no <LSGT> of its own and gets "< >" from pc105. Only the keys we map are
# taken from it (the rest is function keys and keypad).
BASE = ("pc", "pc105")

DEAD_PREFIX = "dead:"

# Key types whose first four levels are plain / Shift / AltGr / AltGr+Shift; any other
# type on a mapped key is reported, since its levels would mean something else.
STANDARD_TYPES = frozenset(
    {
        "TWO_LEVEL",
        "ALPHABETIC",
        "FOUR_LEVEL",
        "FOUR_LEVEL_ALPHABETIC",
        "FOUR_LEVEL_SEMIALPHABETIC",
        "FOUR_LEVEL_PLUS_LOCK",
        "EIGHT_LEVEL",
        "EIGHT_LEVEL_ALPHABETIC",
        "EIGHT_LEVEL_SEMIALPHABETIC",
        "LOCAL_EIGHT_LEVEL",
    }
)
TWO_LEVEL_TYPES = frozenset({"TWO_LEVEL", "ALPHABETIC"})
LEVEL3_SWITCHES = frozenset({"ISO_Level3_Shift", "ISO_Level3_Latch"})


# --------------------------------------------------------------------------- keysyms


@dataclass
class Keysyms:
    """keysymdef.h: keysym names and values, and the code point each value stands for."""

    values: dict[str, int]
    unicode: dict[int, int]
    # Dead-key value -> its first name in keysymdef.h (dead_perispomeni is dead_tilde).
    dead_names: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(cls, path: Path) -> Keysyms:
        define = re.compile(r"^#define XK_(\w+)\s+0x([0-9a-fA-F]+)\s*(?:/\*(.*?)\*/)?\s*$")
        # "/* U+00E4 ... */" is exact; "/*(U+2500 ...)*/" an approximate equivalent, used
        # only when no keysym with that value has an exact one.
        exact = re.compile(r"^\s*U\+([0-9A-F]{4,6})\s")
        approx = re.compile(r"^\(U\+([0-9A-F]{4,6})\s")
        values: dict[str, int] = {}
        unicode: dict[int, int] = {}
        approximate: dict[int, int] = {}
        dead_names: dict[int, str] = {}
        for line in path.read_text(encoding="ascii", errors="replace").splitlines():
            m = define.match(line)
            if not m:
                continue
            name, value, comment = m.group(1), int(m.group(2), 16), m.group(3) or ""
            values[name] = value
            if name.startswith("dead_"):
                dead_names.setdefault(value, name)
            if (u := exact.match(comment)) is not None:
                unicode.setdefault(value, int(u.group(1), 16))
            elif (u := approx.match(comment)) is not None:
                approximate.setdefault(value, int(u.group(1), 16))
        # Deprecated aliases carry no comment; they share the value of the commented name.
        return cls(values, {**approximate, **unicode}, dead_names)

    def codepoint(self, value: int) -> int | None:
        if value in self.unicode:
            return self.unicode[value]
        if 0x01000000 <= value <= 0x0110FFFF:
            # Keysyms outside the legacy sets are 0x01000000 + the code point.
            return value - 0x01000000
        return None


@dataclass
class SymbolResolver:
    keysyms: Keysyms
    unknown: set[str] = field(default_factory=set)

    def resolve(self, sym: str | None) -> str | None:
        """A keysym name as a character, ``"dead:"`` + the dead key's name, or None."""
        if sym is None or sym in ("NoSymbol", "VoidSymbol"):
            return None
        if sym.startswith("dead_") and sym in self.keysyms.values:
            # Dead keys have no code point: they are named, by their canonical name since
            # Compose matches keysym values, not names.
            name = self.keysyms.dead_names[self.keysyms.values[sym]]
            return DEAD_PREFIX + name.removeprefix("dead_")
        cp: int | None
        if re.fullmatch(r"U[0-9A-Fa-f]{4,6}", sym):
            cp = int(sym[1:], 16)
        elif re.fullmatch(r"0x[0-9A-Fa-f]+", sym):
            cp = self.keysyms.codepoint(int(sym, 16))
        elif sym in self.keysyms.values:
            cp = self.keysyms.codepoint(self.keysyms.values[sym])
        else:
            self.unknown.add(sym)
            return None
        if cp is None:
            return None
        char = chr(cp)
        # Control characters (BackSpace, Tab, ...) are keys, not text.
        if unicodedata.category(char) == "Cc":
            return None
        return char


# --------------------------------------------------------------------------- xkb parser

TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<comment>//[^\n]*|\#[^\n]*|/\*.*?\*/)
  | (?P<string>"[^"]*")
  | (?P<keyname><[^>\s]+>)
  | (?P<ident>[A-Za-z0-9_]+(?:\.[A-Za-z0-9_]+)*)
  | (?P<punct>[{}\[\]();,=+\-!.])
    """,
    re.VERBOSE | re.DOTALL,
)


def tokenize(text: str) -> list[str]:
    tokens: list[str] = []
    pos = 0
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if m is None:
            raise SyntaxError(f"cannot tokenize at {text[pos : pos + 40]!r}")
        pos = m.end()
        if m.lastgroup not in ("ws", "comment"):
            tokens.append(m.group())
    return tokens


@dataclass
class Section:
    name: str
    flags: list[str]
    body: list[str]


def parse_sections(tokens: list[str]) -> list[Section]:
    sections: list[Section] = []
    i = 0
    flags: list[str] = []
    while i < len(tokens):
        tok = tokens[i]
        if tok == "xkb_symbols":
            name = tokens[i + 1].strip('"')
            if tokens[i + 2] != "{":
                raise SyntaxError(f"expected '{{' after xkb_symbols {name}")
            end = _matching(tokens, i + 2)
            sections.append(Section(name, flags, tokens[i + 3 : end]))
            flags = []
            i = end + 1
            if i < len(tokens) and tokens[i] == ";":
                i += 1
        else:
            flags.append(tok)
            i += 1
    return sections


def _matching(tokens: list[str], start: int) -> int:
    pairs = {"{": "}", "[": "]", "(": ")"}
    stack = [pairs[tokens[start]]]
    i = start + 1
    while stack:
        tok = tokens[i]
        if tok in pairs:
            stack.append(pairs[tok])
        elif tok in ("}", "]", ")") and tok != stack.pop():
            raise SyntaxError(f"unbalanced {tok!r}")
        i += 1
    return i - 1


# Levels are keysym names; None is NoSymbol (keeps what an earlier definition had).
Levels = list[str | None]


@dataclass
class KeyDef:
    levels: Levels
    type: str | None = None


@dataclass
class SymbolsInfo:
    keys: dict[str, KeyDef] = field(default_factory=dict)
    name: str | None = None

    def merge_key(self, code: str, new: KeyDef, mode: str) -> None:
        old = self.keys.get(code)
        if old is None or mode == "replace":
            self.keys[code] = KeyDef(list(new.levels), new.type)
            return
        # libxkbcommon's MergeGroups: level by level, NoSymbol never clobbers, extra
        # levels from either side survive, and augment keeps what is already there.
        clobber = mode != "augment"
        merged: Levels = []
        for i in range(max(len(old.levels), len(new.levels))):
            a = old.levels[i] if i < len(old.levels) else None
            b = new.levels[i] if i < len(new.levels) else None
            merged.append((b if b is not None else a) if clobber else (a if a is not None else b))
        typ = (new.type or old.type) if clobber else (old.type or new.type)
        self.keys[code] = KeyDef(merged, typ)

    def merge(self, other: SymbolsInfo, mode: str) -> None:
        for code, key in other.keys.items():
            self.merge_key(code, key, mode)
        if other.name is not None and (mode != "augment" or self.name is None):
            self.name = other.name


class XkbSymbols:
    def __init__(self, root: Path) -> None:
        self.root = root
        self._files: dict[str, list[Section]] = {}
        self.aliases = self._load_aliases(root / "keycodes" / "evdev")

    @staticmethod
    def _load_aliases(path: Path) -> dict[str, str]:
        aliases = {}
        for m in re.finditer(r"^\s*alias\s+<([^>]+)>\s*=\s*<([^>]+)>\s*;", path.read_text(), re.M):
            aliases[m.group(1)] = m.group(2)
        return aliases

    def sections(self, filename: str) -> list[Section]:
        if filename not in self._files:
            text = (self.root / "symbols" / filename).read_text(encoding="utf-8")
            self._files[filename] = parse_sections(tokenize(text))
        return self._files[filename]

    def section(self, filename: str, variant: str | None) -> Section:
        sections = self.sections(filename)
        if variant is None:
            # The default section is the one flagged "default", else the first.
            return next((s for s in sections if "default" in s.flags), sections[0])
        for s in sections:
            if s.name == variant:
                return s
        raise KeyError(f"{filename}({variant}) not found")

    def default_variant(self, filename: str) -> str:
        return self.section(filename, None).name

    def compile(self, filename: str, variant: str | None, depth: int = 0) -> SymbolsInfo:
        if depth > 20:
            raise RecursionError(f"include loop at {filename}({variant})")
        return self._compile_body(self.section(filename, variant).body, depth)

    def _include(self, spec: str, depth: int) -> SymbolsInfo:
        """Compile an include string such as ``pc+us(intl)|level3(ralt_switch):1``."""
        result = SymbolsInfo()
        first = True
        for m in re.finditer(r"([+|]?)([^+|]+)", spec):
            op, part = m.group(1), m.group(2).strip()
            pm = re.fullmatch(r"([\w\-/]+)(?:\(([^)]+)\))?(?::(\d+))?", part)
            if pm is None:
                raise SyntaxError(f"bad include {part!r}")
            filename, variant, group = pm.group(1), pm.group(2), pm.group(3)
            if group is not None and group != "1":
                # Lands in another group: nothing for group 1.
                continue
            info = self.compile(filename, variant, depth + 1)
            result.merge(info, "override" if first or op != "|" else "augment")
            first = False
        return result

    def _compile_body(self, body: list[str], depth: int) -> SymbolsInfo:
        info = SymbolsInfo()
        default_type: str | None = None
        i = 0
        while i < len(body):
            tok = body[i]
            if tok in ("include", "augment", "override", "replace") and body[i + 1].startswith('"'):
                mode = "override" if tok == "include" else tok
                info.merge(self._include(body[i + 1].strip('"'), depth), mode)
                i += 2
                continue
            end = self._statement_end(body, i)
            stmt = body[i:end]
            i = end + 1
            mode = "override"
            if stmt and stmt[0] in ("override", "augment", "replace", "alternate"):
                mode = "override" if stmt[0] == "alternate" else stmt[0]
                stmt = stmt[1:]
            if not stmt:
                continue
            if stmt[0] == "key" and len(stmt) > 1 and stmt[1].startswith("<"):
                code = stmt[1][1:-1]
                code = self.aliases.get(code, code)
                key = self._parse_key(stmt[2:], default_type)
                if key is not None:
                    info.merge_key(code, key, mode)
            elif stmt[0] == "name" and "=" in stmt:
                group = stmt[2] if len(stmt) > 2 and stmt[1] == "[" else "Group1"
                if group.lower() in ("group1", "1"):
                    info.name = stmt[-1].strip('"')
            elif stmt[0] == "key.type" and (
                stmt[1] == "=" or (stmt[1] == "[" and stmt[2].lower() in ("group1", "1"))
            ):
                default_type = stmt[-1].strip('"')
            # modifier_map, virtual_modifiers, key.repeat, ...: nothing for text.
        return info

    @staticmethod
    def _statement_end(body: list[str], i: int) -> int:
        while i < len(body) and body[i] != ";":
            if body[i] in ("{", "[", "("):
                i = _matching(body, i)
            i += 1
        return i

    def _parse_key(self, tokens: list[str], default_type: str | None) -> KeyDef | None:
        if not tokens or tokens[0] != "{":
            return None
        inner = tokens[1 : _matching(tokens, 0)]
        levels: Levels | None = None
        typ: str | None = None
        groups_seen = 0
        for item in _split_commas(inner):
            if not item:
                continue
            if item[0] == "[":
                groups_seen += 1
                if groups_seen == 1:
                    levels = _parse_levels(item)
            elif item[0] in ("symbols", "type") and "=" in item:
                eq = item.index("=")
                group = item[2] if item[1] == "[" else None
                is_g1 = group is None or group.lower() in ("group1", "1")
                if item[0] == "symbols" and is_g1:
                    levels = _parse_levels(item[eq + 1 :])
                elif item[0] == "type" and is_g1:
                    typ = item[-1].strip('"')
        if levels is None:
            return None
        return KeyDef(levels, typ or default_type)


def _split_commas(tokens: list[str]) -> Iterator[list[str]]:
    start = i = 0
    while i < len(tokens):
        if tokens[i] in ("{", "[", "("):
            i = _matching(tokens, i)
        elif tokens[i] == ",":
            yield tokens[start:i]
            start = i + 1
        i += 1
    yield tokens[start:]


def _parse_levels(tokens: list[str]) -> Levels:
    if not tokens or tokens[0] != "[":
        raise SyntaxError(f"expected symbol list, got {tokens[:3]}")
    levels: Levels = []
    for item in _split_commas(tokens[1 : _matching(tokens, 0)]):
        if len(item) == 1:
            levels.append(item[0])
        elif not item:
            levels.append(None)
        else:
            # { a, b }: several keysyms on one level; not one character, so nothing.
            levels.append("VoidSymbol")
    return [_normalize_keysym(s) for s in levels]


def _normalize_keysym(sym: str | None) -> str | None:
    # As libxkbcommon's LookupKeysym: "any"/"NoSymbol" in any case keep the level an
    # earlier definition gave (hr uses "any"; cz has a "Nosymbol" typo), "none" clears it.
    if sym is None or sym.lower() in ("any", "nosymbol"):
        return None
    if sym.lower() in ("none", "voidsymbol"):
        return "VoidSymbol"
    return sym


# --------------------------------------------------------------------------- compose

# A Compose trie: symbol -> the node after it, or the text a complete sequence types.
# An empty node is a prefix whose continuations no shipped layout can type (a keypad key,
# a keysym with no character): the target still waits there, and the next key cancels.
Trie = dict[str, "Trie | str"]

COMPOSE_LINE = re.compile(r"^(?P<lhs>(?:\s*<[^>]+>)+)\s*:\s*(?P<rhs>.*)$")
COMPOSE_INCLUDE = re.compile(r'^\s*include\s+"(?P<path>[^"]*)"')


@dataclass(frozen=True)
class Production:
    """One Compose line: keysym names, and the text the sequence types."""

    keysyms: tuple[str, ...]
    text: str


class ComposeFiles:
    """libX11's Compose files (Debian's ``libx11-data``), read as Compose(5) describes."""

    SYSTEM = "/usr/share/X11/locale"

    def __init__(self, root: Path, keysyms: Keysyms) -> None:
        self.root = root
        self.resolver = SymbolResolver(keysyms)

    def path(self, locale: str) -> Path:
        return self.root / locale / "Compose"

    def productions(self, locale: str) -> tuple[list[Production], set[Path]]:
        """The productions of ``locale``'s Compose file in file order, includes expanded,
        and every file read."""
        read: set[Path] = set()
        return self._read(self.path(locale), locale, read, 0), read

    def _read(self, path: Path, locale: str, read: set[Path], depth: int) -> list[Production]:
        if depth > 10:
            raise RecursionError(f"include loop at {path}")
        read.add(path)
        productions: list[Production] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if (inc := COMPOSE_INCLUDE.match(line)) is not None:
                target = inc.group("path").replace("%L", str(self.path(locale)))
                target = target.replace("%S", self.SYSTEM)
                if "%H" in target:
                    continue  # the user's home: not part of the system's data
                if target.startswith(self.SYSTEM + "/"):
                    target = str(self.root / target.removeprefix(self.SYSTEM + "/"))
                productions += self._read(Path(target), locale, read, depth + 1)
                continue
            if (m := COMPOSE_LINE.match(line)) is None:
                continue
            keysyms = tuple(re.findall(r"<([^>]+)>", m.group("lhs")))
            text, keysym = _compose_rhs(m.group("rhs"))
            if text is None:
                text = self.resolver.resolve(keysym) or ""
            productions.append(Production(keysyms, text))
        return productions

    def trie(self, productions: list[Production], reachable: set[str]) -> Trie:
        """The sequences as libxkbcommon builds its table, over the symbols a shipped
        layout can type (``reachable``): a longer sequence replaces a shorter one it
        extends, an equal one replaces the earlier, a shorter one never replaces a longer."""
        root: Trie = {}
        for production in productions:
            symbols: list[str] = []
            for keysym in production.keysyms:
                symbol = self.resolver.resolve(keysym)
                if symbol is None or symbol not in reachable:
                    break
                symbols.append(symbol)
            if not symbols:
                continue
            complete = len(symbols) == len(production.keysyms)
            node = root
            for symbol in symbols[:-1]:
                child = node.get(symbol)
                if not isinstance(child, dict):
                    child = node[symbol] = {}
                node = child
            last = node.get(symbols[-1])
            if complete:
                if not isinstance(last, dict):
                    node[symbols[-1]] = production.text
            elif not isinstance(last, dict):
                node[symbols[-1]] = {}
        return root


def _compose_rhs(rhs: str) -> tuple[str | None, str | None]:
    """The string (Compose(5) escapes undone) and the keysym of a production's right side."""
    text: str | None = None
    rest = rhs.lstrip()
    if rest.startswith('"'):
        chars: list[str] = []
        i = 1
        while rest[i] != '"':
            if rest[i] == "\\":
                i += 1
                if (m := re.match(r"[0-7]{1,3}", rest[i:])) is not None:
                    chars.append(chr(int(m.group(), 8)))
                    i += len(m.group())
                    continue
                if (m := re.match(r"[xX]([0-9a-fA-F]{1,2})", rest[i:])) is not None:
                    chars.append(chr(int(m.group(1), 16)))
                    i += len(m.group())
                    continue
            chars.append(rest[i])
            i += 1
        text = "".join(chars)
        rest = rest[i + 1 :]
    keysym = re.match(r"\s*(\w+)", rest.split("#", 1)[0])
    return text, keysym.group(1) if keysym else None


def sequences(
    trie: Trie, prefix: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], str | None]]:
    """Every path of ``trie``: its complete sequences with their text, and its empty
    prefixes with None."""
    for symbol, child in trie.items():
        path = (*prefix, symbol)
        if isinstance(child, str):
            yield path, child
        elif not child:
            yield path, None
        else:
            yield from sequences(child, path)


def type_on(trie: Trie, symbols: tuple[str, ...]) -> tuple[str, bool]:
    """What the presses type with this Compose table, as libX11 does: a key that continues
    no sequence cancels it and is swallowed; a dead key outside any sequence types nothing.
    Also whether a sequence is left unfinished."""
    node = trie
    out: list[str] = []
    for symbol in symbols:
        child = node.get(symbol)
        if child is None:
            if node is trie and not symbol.startswith(DEAD_PREFIX):
                out.append(symbol)
            node = trie
        elif isinstance(child, str):
            out.append(child)
            node = trie
        else:
            node = child
    return "".join(out), node is not trie


@dataclass
class BuiltCompose:
    trie: Trie
    locale_dependent: dict[tuple[str, ...], list[str]]
    compared: list[str]
    not_compared: list[str]


def build_compose(files: ComposeFiles, reachable: set[str]) -> BuiltCompose:
    """en_US.UTF-8's table (what C.UTF-8 and most UTF-8 locales use), and which of the
    sequences and single characters the planner may use type differently with another
    UTF-8 locale's table built on it (pt_BR: dead acute + c is ç, not ć)."""
    productions, _ = files.productions(COMPOSE_LOCALE)
    trie = files.trie(productions, reachable)
    # Dead-key sequences only: a locale whose table makes a plain key start a sequence
    # (am_ET's "\\", for Ethiopic input) changes ordinary typing for its own users, and
    # excluding such keys everywhere would leave no layout able to type them.
    typed = [path for path, text in sequences(trie) if text is not None and len(path) > 1]
    base = files.path(COMPOSE_LOCALE)
    dependent: dict[tuple[str, ...], list[str]] = {}
    compared: list[str] = []
    not_compared: list[str] = []
    for directory in sorted(files.root.glob("*.UTF-8")):
        locale = directory.name
        if locale == COMPOSE_LOCALE or not files.path(locale).is_file():
            continue
        other, read = files.productions(locale)
        if base not in read:
            # el_GR's table is its own, not en_US's with changes.
            not_compared.append(locale)
            continue
        compared.append(locale)
        other_trie = files.trie(other, reachable)
        for path in typed:
            if type_on(other_trie, path) != type_on(trie, path):
                dependent.setdefault(path, []).append(locale)
    return BuiltCompose(trie, dependent, compared, not_compared)


def render_compose(built: BuiltCompose) -> str:
    lines = ["{", f'  "locale": {json.dumps(COMPOSE_LOCALE)},', '  "sequences": [']
    items = sorted(sequences(built.trie))
    for n, (path, text) in enumerate(items):
        symbols = ", ".join(_json_str(s) for s in path)
        out = "null" if text is None else _json_str(text)
        lines.append(f"    [[{symbols}], {out}]" + ("," if n < len(items) - 1 else ""))
    lines.append("  ],")
    lines.append('  "locale_dependent": [')
    dependent = sorted(built.locale_dependent.items())
    for n, (path, locales) in enumerate(dependent):
        symbols = ", ".join(_json_str(s) for s in path)
        comma = "," if n < len(dependent) - 1 else ""
        lines.append(f"    [[{symbols}], {json.dumps(locales)}]{comma}")
    lines.append("  ]")
    lines.append("}")
    return "\n".join(lines) + "\n"


# --------------------------------------------------------------------------- output


@dataclass
class BuiltLayout:
    table: dict[str, list[str | None]]
    description: str | None
    generic_keys: list[str]
    notes: list[str]


def build_layout(
    xkb: XkbSymbols, resolver: SymbolResolver, filename: str, variant: str | None
) -> BuiltLayout:
    notes: list[str] = []
    info = SymbolsInfo()
    base = xkb.compile(*BASE)
    info.keys = {c: k for c, k in base.keys.items() if c in KEYCODES}
    own = xkb.compile(filename, variant)
    info.merge(own, "override")
    # Keys whose meaning is pc105's generic one, not the layout's: Windows layouts often
    # differ there (en-us has "\ |" on IntlBackslash, xkb's pc105 "< >"), so the runtime
    # avoids them when it can. The space bar is the same everywhere.
    generic = [
        KEYCODES[c] for c in base.keys if c in KEYCODES and c != "SPCE" and c not in own.keys
    ]

    ralt = info.keys.get("RALT")
    has_altgr = ralt is not None and bool(ralt.levels) and ralt.levels[0] in LEVEL3_SWITCHES

    table: dict[str, list[str | None]] = {}
    for code, kvmd in KEYCODES.items():
        key = info.keys.get(code)
        if key is None:
            continue
        syms = key.levels[:4]
        # An untyped key gets one by its number of levels, as xkb assigns it.
        defined = len(key.levels) - next(
            (i for i, s in enumerate(reversed(key.levels)) if s is not None), len(key.levels)
        )
        typ = key.type or ("ONE_LEVEL" if defined <= 1 else "TWO_LEVEL" if defined == 2 else None)
        width = 4
        if typ == "ONE_LEVEL":
            width = 1
        elif typ in TWO_LEVEL_TYPES:
            width = 2
        elif typ is not None and typ not in STANDARD_TYPES:
            extra = [resolver.resolve(s) for s in syms[1:]]
            if any(extra):
                notes.append(f"{kvmd}: key type {typ} read as plain/Shift/AltGr levels")
        if not has_altgr:
            # Without a level-3 switch xkb never reaches these levels.
            width = min(width, 2)
        dropped = [c for c in (resolver.resolve(s) for s in syms[width:]) if c is not None]
        if dropped:
            notes.append(f"{kvmd}: unreachable levels dropped: {dropped}")
        syms = syms[:width]
        # A type without Shift or AltGr in its map ignores them: Shift+Space is a space,
        # and AltGr+key on a two-level key types the key's own level.
        if len(syms) == 1:
            syms = syms * (4 if has_altgr else 2)
        elif width == 2 and has_altgr:
            syms = syms + syms
        levels = [resolver.resolve(s) for s in syms]
        while levels and levels[-1] is None:
            levels.pop()
        if levels:
            table[kvmd] = levels
    if not has_altgr:
        notes.insert(0, "no AltGr: RALT is not a level-3 switch in this layout")
    return BuiltLayout(table, info.name, [k for k in generic if k in table], notes)


def _escape_char(ch: str) -> str:
    cat = unicodedata.category(ch)
    bidi = unicodedata.bidirectional(ch)
    if ch == " " or (cat[0] in "LNPS" and bidi not in ("R", "AL", "AN")):
        return ch
    # Marks, format characters, odd spaces and right-to-left text are escaped so the file
    # reads unambiguously in any editor.
    return "".join(f"\\u{u:04x}" for u in _utf16(ch))


def _utf16(ch: str) -> list[int]:
    data = ch.encode("utf-16-be")
    return [int.from_bytes(data[i : i + 2], "big") for i in range(0, len(data), 2)]


def _json_str(s: str) -> str:
    raw = json.dumps(s, ensure_ascii=False)
    return "".join(_escape_char(c) if ord(c) > 0x7E else c for c in raw)


def render(doc: dict[str, object], keys: dict[str, list[str | None]]) -> str:
    lines = ["{"]
    for k, v in doc.items():
        lines.append(f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)},")
    lines.append('  "keys": {')
    items = list(keys.items())
    for n, (name, levels) in enumerate(items):
        vals = ", ".join("null" if v is None else _json_str(v) for v in levels)
        comma = "," if n < len(items) - 1 else ""
        lines.append(f"    {json.dumps(name)}: [{vals}]{comma}")
    lines.append("  }")
    lines.append("}")
    return "\n".join(lines) + "\n"


README = """\
# Keyboard layouts

Generated by `scripts/gen_layouts.py`; do not edit by hand.

## Origin

The tables are derived from **xkeyboard-config**, as packaged by Debian (`xkb-data`
{xkb_data}), from the symbols files in `/usr/share/X11/xkb/symbols/`. Keysym names are
turned into characters with the code points given in `keysymdef.h` from Debian's
`x11proto-dev` ({x11proto_dev}). Each JSON file records the xkb file and variant it
came from. `_compose.json` holds the dead-key (Compose) sequences of **libX11**'s
`{compose_locale}/Compose`, from Debian's `libx11-data` ({libx11_data}).
`_sources.json` records these package versions.

xkeyboard-config and libX11 are distributed under MIT/X11-style permissive licences
(see `/usr/share/doc/xkb-data/copyright` and `/usr/share/doc/libx11-data/copyright`).
Those licences allow copying, modifying and redistributing with the copyright notice
kept. Nothing here comes from kvmd's own keymaps.

## What they describe

A target running Linux with X11 or Wayland: keys are read with xkb, dead keys with
libX11's Compose table for `{compose_locale}` (also used by `C.UTF-8` and by every UTF-8
locale without a table of its own), as libX11 and libxkbcommon do. The tests compare
both with libxkbcommon itself.

## Format

```
{{"name": kvmd keymap name, "xkb": "file(variant)", "description": xkb's name,
 "generic_keys": [kvmd key names],
 "keys": {{kvmd key name: [plain, Shift, AltGr, AltGr+Shift]}}}}
```

xkb stacks every layout on `pc(pc105)`, and some layouts leave a key to it (fr(basic)
has no `<LSGT>` of its own: its `< >` come from pc105). Such keys are listed in
`generic_keys`; Windows layouts often differ there (en-us: `\\ |` on IntlBackslash), so
`layout.py` only uses them when no other key types the character with as few
modifiers.

Each level is a character, `"dead:"` followed by the dead key's xkb name (`dead:acute`
is `dead_acute`; aliases such as `dead_perispomeni` go by their first name,
`dead:tilde`), or null; trailing nulls are left out. AltGr is `AltRight`, reaching xkb's
third level; layouts where xkb gives no third-level switch keep two levels only. A key
whose xkb type ignores AltGr (or Shift) gives the same character there, as xkb does
(AltGr+Space is a space). Only the alphanumeric block and the space bar are covered;
Caps Lock is ignored.

`_compose.json`:

```
{{"locale": "{compose_locale}",
 "sequences": [[[symbol, ...], text or null], ...],
 "locale_dependent": [[[symbol, ...], [locale, ...]], ...]}}
```

`sequences` are the Compose sequences made only of symbols some shipped layout can type
(in the tables' notation), with the text each types. A sequence libX11 continues with
keys no table has (the keypad, keysyms with no character) is cut there, with null text:
a target still waits at that point. `locale_dependent` lists the sequences that type
something else with the table of a UTF-8 locale built on
`{compose_locale}`'s ({compared}); the planner does not use them. Such a table can also
make a plain key start a sequence (am_ET's `\\`, for Ethiopic input): that is not
counted. Locales with a table of their own are not compared: {not_compared}.

## Regenerating

```
apt-get install -y xkb-data x11proto-dev libx11-data
python3 scripts/gen_layouts.py
```

Layouts: {layouts}.

## xkeyboard-config copyright and permission notices

Reproduced from `/usr/share/doc/xkb-data/copyright`, as those licences ask.

```
{copyright}
```

## libX11 copyright and permission notice

The X.Org standard licence, reproduced from `/usr/share/doc/libx11-data/copyright`
(which lists the other holders of libX11's MIT/X11 licences).

```
{x11_copyright}
```
"""
COPYRIGHT = Path("/usr/share/doc/xkb-data/copyright")
X11_COPYRIGHT = Path("/usr/share/doc/libx11-data/copyright")


def x11_licence() -> str:
    """libX11's canonical licence: the copyright file's first notice, up to the end of
    its disclaimer."""
    text = X11_COPYRIGHT.read_text(encoding="utf-8")
    start = text.index("The following is the 'standard copyright'")
    end = text.index("DEALINGS IN THE SOFTWARE.", start) + len("DEALINGS IN THE SOFTWARE.")
    return text[start:end]


def dpkg_version(pkg: str) -> str:
    try:
        out = subprocess.run(
            ["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, check=True
        )
        return out.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--xkb", type=Path, default=XKB_ROOT)
    parser.add_argument("--keysymdef", type=Path, default=KEYSYMDEF)
    parser.add_argument("--locale", type=Path, default=LOCALE_ROOT)
    parser.add_argument("--out", type=Path, default=OUT_DIR)
    args = parser.parse_args(argv)

    for needed, package in (
        (args.xkb / "symbols", "xkb-data"),
        (args.keysymdef, "x11proto-dev"),
        (args.locale / COMPOSE_LOCALE / "Compose", "libx11-data"),
    ):
        if not needed.exists():
            print(f"{needed} not found: apt-get install -y {package}", file=sys.stderr)
            return 1
    xkb = XkbSymbols(args.xkb)
    keysyms = Keysyms.load(args.keysymdef)
    resolver = SymbolResolver(keysyms)
    args.out.mkdir(parents=True, exist_ok=True)
    for stale in args.out.glob("*.json"):
        stale.unlink()

    produced: list[str] = []
    reachable: set[str] = set()
    for name, (filename, variant) in sorted(LAYOUTS.items()):
        if not (args.xkb / "symbols" / filename).is_file():
            print(f"skip {name}: xkb has no symbols/{filename}")
            continue
        try:
            resolved = variant or xkb.default_variant(filename)
            built = build_layout(xkb, resolver, filename, variant)
        except KeyError as exc:
            print(f"skip {name}: {exc}")
            continue
        doc: dict[str, object] = {
            "name": name,
            "xkb": f"{filename}({resolved})",
            "description": built.description,
            "generic_keys": built.generic_keys,
        }
        (args.out / f"{name}.json").write_text(render(doc, built.table), encoding="utf-8")
        produced.append(name)
        reachable.update(s for levels in built.table.values() for s in levels if s is not None)
        print(f"{name}: {filename}({resolved}) {built.description!r}, {len(built.table)} keys")
        if built.generic_keys:
            print(f"  generic (pc105) keys: {built.generic_keys}")
        for note in built.notes:
            print(f"  note: {note}")
    if resolver.unknown:
        print("keysyms not in keysymdef.h (left null):", ", ".join(sorted(resolver.unknown)))

    compose = build_compose(ComposeFiles(args.locale, keysyms), reachable)
    (args.out / COMPOSE_FILE).write_text(render_compose(compose), encoding="utf-8")
    print(
        f"compose: {COMPOSE_LOCALE}, {sum(1 for _ in sequences(compose.trie))} sequences; "
        f"{len(compose.locale_dependent)} typed differently in {', '.join(compose.compared)}"
    )
    if compose.not_compared:
        print(f"  not built on {COMPOSE_LOCALE} (not compared): {', '.join(compose.not_compared)}")

    versions = {package: dpkg_version(package) for package in PACKAGES}
    (args.out / SOURCES_FILE).write_text(json.dumps(versions, indent=2) + "\n", encoding="utf-8")
    (args.out / "README.md").write_text(
        README.format(
            **{package.replace("-", "_"): version for package, version in versions.items()},
            compose_locale=COMPOSE_LOCALE,
            compared=", ".join(compose.compared),
            not_compared=", ".join(compose.not_compared),
            layouts=", ".join(produced),
            copyright=COPYRIGHT.read_text(encoding="utf-8").strip(),
            x11_copyright=x11_licence(),
        ),
        encoding="utf-8",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
