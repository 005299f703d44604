"""Run ``python -m iic_tutorial`` with a pause inside every checkpoint save:

    python tests/helpers/pause_in_save.py SECONDS train ...

A save writes the new checkpoint files, then ``state.json``, which names them
(``iic_tutorial.training.checkpoint.save``). Here the write of ``state.json`` first
touches ``.paused-save`` in the checkpoint folder and sleeps SECONDS, so a test that
sees that file can kill the process between the two writes. The package has no
test-only code path; the pause is this script's monkeypatch.
"""

import sys
import time
from pathlib import Path

import iic_tutorial.training.checkpoint as checkpoint
from iic_tutorial.__main__ import main

seconds = float(sys.argv[1])
write = checkpoint.atomic_write_text


def paused_write(path, text):
    (Path(path).parent / ".paused-save").touch()
    time.sleep(seconds)
    return write(path, text)


checkpoint.atomic_write_text = paused_write
sys.exit(main(sys.argv[2:]))
