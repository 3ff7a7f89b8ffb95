"""``python -m conjure``: the ``conjure`` command, for the interpreter it runs in."""

import sys

from conjure.cli import main

sys.exit(main())
