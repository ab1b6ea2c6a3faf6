from __future__ import annotations

import sys

from aioconductor.cli import main

sys.exit(main())
