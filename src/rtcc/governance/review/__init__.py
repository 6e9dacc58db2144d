"""Audit review: automatic flags over the audit trail, each explained, a supervisor's queue of them, the reviews
recorded against them (cleared or referred, with notes) and the weekly review each supervisor owes."""
