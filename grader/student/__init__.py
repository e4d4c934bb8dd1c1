"""Code that runs inside the sandbox, next to the student's notebook (stdlib, torch, protocol only)."""
