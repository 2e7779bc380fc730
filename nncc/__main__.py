"""``python -m nncc`` is the ``nncc`` command."""
import sys

from .cli import main

sys.exit(main())
