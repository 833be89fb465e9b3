"""`python -m training` runs the music-mood-train command line."""

import sys

from .cli import main

sys.exit(main())
