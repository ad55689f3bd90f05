import signal

from kit.cli import main

# `kill PID` ends a verb as Ctrl-C does: a run is marked interrupted (RESUME=1 continues it), a
# study stops its worker processes, nothing is left running behind a killed parent
signal.signal(signal.SIGTERM, signal.default_int_handler)
raise SystemExit(main())
