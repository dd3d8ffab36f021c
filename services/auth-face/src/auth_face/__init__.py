"""auth-face: enrolment, face login with active liveness, single active login, re-verification."""
