"""`python -m vhr_conformance.server ...` is `vhr serve ...` (used for subprocess servers)."""

import sys

from vhr_conformance.cli import main

if __name__ == "__main__":
    sys.argv = [sys.argv[0], "serve", *sys.argv[1:]]
    main()
