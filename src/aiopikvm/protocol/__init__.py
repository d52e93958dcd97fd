"""The kvmd wire protocol as pure data and functions, with no I/O.

Shared by the client and the emulator: key tables, frame codecs, event merging, TOTP and
credential rules. Nothing here knows about sockets or event loops.
"""
