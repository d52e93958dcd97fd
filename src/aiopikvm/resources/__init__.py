"""Thin namespaces on :class:`~aiopikvm.PiKVM` (``kvm.atx``, ``kvm.hid``, ...): each method
builds a path and parameters, calls the client's one request path, and returns a model."""
