"""auditwatch: proactive monitoring of who looks at what in police record systems."""

__version__ = "0.1.0"
