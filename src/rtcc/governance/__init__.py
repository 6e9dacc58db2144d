"""Governance: accountability as code. Retention per data class and its purge engine with receipts, legal holds,
audit review, redaction for release and the transparency portal, all computed from the system of record.

It sits above the domains whose data it keeps, purges and counts (video, alpr, incidents, sharing); the
policy engine that those domains consult before data leaves the agency is rtcc.policy, below them.
"""
