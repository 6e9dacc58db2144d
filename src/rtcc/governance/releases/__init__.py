"""Public-records releases: redacted release copies of clips (faces, plates, drawn boxes blurred), approved by a second supervisor."""
