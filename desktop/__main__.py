"""``python -m desktop`` opens the window; ``python -m desktop --desktop-server`` is the server child."""

from __future__ import annotations

import sys


def _run(argv: list[str]) -> int:
    from desktop.child import SERVER_FLAG

    if argv[:1] == [SERVER_FLAG]:
        from desktop.child import main as serve

        return serve(argv[1:])
    from desktop.launcher import main

    return main(argv)


if __name__ == "__main__":
    sys.exit(_run(sys.argv[1:]))
