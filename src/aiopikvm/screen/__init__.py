"""Pictures of the screen, as pure functions over decoded images (no I/O).

The modules here need the ``vision`` extra (OpenCV and NumPy, ``pip install
'aiopikvm[vision]'``), which they import on first use: :mod:`aiopikvm.screen.compare`
measures how much two snapshots differ, tolerating a capture's noise.
"""
