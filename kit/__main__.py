from kit.cli import main
from kit.console import signals

signals.interrupt_on_sigterm()  # `kill PID` is Ctrl-C: runs marked interrupted, a study's workers stopped
code = main()
signals.DONE.set()
raise SystemExit(code)
