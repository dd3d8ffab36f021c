"""notify: incident streams and help chat for proctors, notices for candidates, the console."""
