"""Services built on the platform, one package per service (press desk, field safety, crowd …)."""
