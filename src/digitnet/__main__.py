import sys

from digitnet.cli import main

if __name__ == "__main__":  # not when a "spawn" worker process imports this module as __mp_main__
    sys.exit(main())
