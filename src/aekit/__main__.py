import sys

from .cli import main

if __name__ == "__main__":  # Dask's and torch's worker processes re-import the main module (spawn)
    sys.exit(main())
