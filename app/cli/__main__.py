"""`python -m app.cli …`: the same as `guidecat …`."""

import sys

from app.cli import main

sys.exit(main())
