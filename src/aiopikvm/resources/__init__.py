"""Thin namespaces on :class:`~aiopikvm.PiKVM` (``kvm.atx``, ``kvm.hid``, ...): each method
builds a path and parameters, calls the client's one request path, and returns a model.

The models are imported inside the methods that parse into them (and for type checkers
only, up here): pydantic and the model classes load with the first answer parsed, not with
the client, and ``kvm.hid.send_key`` never loads them (import time, issue 9)."""
