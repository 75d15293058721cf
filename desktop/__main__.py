"""``python -m desktop``: the same as ``expense-tracker`` (:func:`desktop.entry.run`): alone it opens the window;
``python -m desktop --desktop-server`` is the server child."""

from __future__ import annotations

import sys

from desktop.entry import run

if __name__ == "__main__":
    sys.exit(run())
