"""OptiScope's desktop app (PySide6 + pyqtgraph). Depends on simulator and trainers, never the reverse."""
