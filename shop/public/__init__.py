"""What anyone may see: the professional-only front page, the health check, robots.txt."""
