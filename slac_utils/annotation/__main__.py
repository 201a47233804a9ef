"""``python -m slac_utils.annotation check --params P --clips C`` (stage 05's first command)."""

from .check import _main

_main()
