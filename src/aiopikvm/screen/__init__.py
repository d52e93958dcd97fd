"""The screen as pictures: comparing snapshots, finding images and text on them."""
