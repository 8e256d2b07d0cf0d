"""Risk-engine settings, each overridable in Django settings (`RISK_*`); defaults here.

RISK_COOLING_OFF_CUT_PERCENT   30     an automated cut deeper than this (of the base
                                      limit) waits out the cooling-off instead of applying
RISK_COOLING_OFF_HOURS         72     how long a pending decrease waits before a run (or
                                      staff) may confirm it
RISK_BREAKER_CUT_PERCENT       5      a run that would cut more than this share of the
                                      scored accounts stops for approval
RISK_BREAKER_MEAN_SHIFT        25     ... or that moves the mean score by more than this
                                      many points against the last applied run
RISK_CHUNK_SIZE                50000  accounts per chunk (by id range); one transaction each
RISK_RUN_MAX_ATTEMPTS          3      a run whose chunk failed this many times is FAILED
RISK_APPEAL_PATH               the appeal link sent with a pending decrease
RISK_REASONS_SHOWN             3      reason codes kept per decision (the largest losses)
"""

from django.conf import settings

DEFAULTS = {
    "RISK_COOLING_OFF_CUT_PERCENT": 30,
    "RISK_COOLING_OFF_HOURS": 72,
    "RISK_BREAKER_CUT_PERCENT": 5,
    "RISK_BREAKER_MEAN_SHIFT": 25,
    "RISK_CHUNK_SIZE": 50_000,
    "RISK_RUN_MAX_ATTEMPTS": 3,
    "RISK_APPEAL_PATH": "/appeals/new/?type=LIMIT_DECREASE&pending={pending_id}",
    "RISK_REASONS_SHOWN": 3,
}


def risk_setting(name: str):
    return getattr(settings, name, DEFAULTS[name])
