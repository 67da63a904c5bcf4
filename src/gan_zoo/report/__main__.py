"""python -m gan_zoo.report: see gan_zoo.report."""

from gan_zoo.report import main

raise SystemExit(main())
