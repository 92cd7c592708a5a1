"""Security: principals, classification-aware access, PII protection, tamper-evident audit."""
