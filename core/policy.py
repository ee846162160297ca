from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    """Rules a region or deployment may tune; the composition root builds it from settings."""

    # PIPL art. 31: under this age a guardian consents before any personal data is stored.
    guardian_consent_age: int = 14
    default_checkin_radius_m: int = 500
    default_timezone: str = "Asia/Shanghai"
    privacy_notice_version: str = "1"
