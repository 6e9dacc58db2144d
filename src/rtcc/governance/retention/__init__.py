"""Retention per data class: policies (versioned, from jurisdiction presets), legal holds, one purge engine with
deletion receipts. The domains keep their data; this package decides when it goes and proves what went."""
