from kit.cli import main
from kit.console import signals

signals.interrupt_on_signals()  # `kill PID` is Ctrl-C, and neither is lost: runs marked interrupted
code = main()
signals.DONE.set()
raise SystemExit(code)
