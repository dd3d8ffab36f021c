"""exam-session: sittings, the candidate state machine, answering and device binding."""
