"""Speed, size, serving and faults at corpus scale."""
