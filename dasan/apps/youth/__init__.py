"""Youth benefits (청년 혜택): catalogue, rules as code, recommendation (issue 17)."""
