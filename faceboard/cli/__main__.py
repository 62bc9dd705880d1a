import sys

from faceboard.cli import main

sys.exit(main())
