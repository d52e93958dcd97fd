"""The ``/api/ws`` session, in layers: its settings (:mod:`.config`), what it knows without
I/O (:mod:`.state`, :mod:`.queue`, :mod:`.queue_watch`), one connection (:mod:`.link`,
:mod:`.reader`), the lifecycle and reconnecting (:mod:`.supervisor`), input (:mod:`.input`,
:mod:`.typist`), and the public object over them (:mod:`.websocket`)."""
