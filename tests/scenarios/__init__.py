"""Scenario tests, one per pain of the source articles (issue #12, Must 10)."""
