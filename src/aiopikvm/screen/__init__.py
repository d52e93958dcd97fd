"""The screen as pictures: comparing snapshots, finding images and text on them.

Pure functions over decoded images (no I/O). They need the ``vision`` extra (OpenCV and
NumPy, ``pip install 'aiopikvm[vision]'``), imported on first use.
"""
