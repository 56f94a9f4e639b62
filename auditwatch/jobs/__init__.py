"""Jobs the daemon runs beside the pipeline on a schedule: silent sources, heartbeat, retention, digest."""
