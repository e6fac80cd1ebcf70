"""``python -m persistence.demodata --patients N --seed S --out DIR`` (see ``cli.py``)."""

from .cli import main

raise SystemExit(main())
