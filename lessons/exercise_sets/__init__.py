"""One module per lesson (``lessonNN.py``), each registering its exercises with
``exercises.register``."""
