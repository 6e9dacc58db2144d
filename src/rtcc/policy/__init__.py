"""Policy: agencies, sharing agreements, managed purposes and the default-deny policy engine.

Every share, field link to another agency's officer, export leaving the agency and (next) federated query
asks this engine, which records its decision with the rule that decided it. It sits low (above auth and
audit, beside cameras) because sharing, video and alpr consult it; governance reads its decisions.
"""
