"""The process around the daemon loop: logging set-up, Prometheus metrics and systemd's sd_notify."""
