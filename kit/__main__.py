from kit.cli import main
from kit.console import signals

signals.interrupt_on_signals()  # `kill PID` is Ctrl-C, and neither is lost: runs marked interrupted
signals.exit_with(main())
