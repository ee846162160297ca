from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass(frozen=True)
class Policy:
    """Rules a region or deployment may tune; the composition root builds it from settings."""

    # PIPL art. 31: under this age a guardian consents before any personal data is stored.
    guardian_consent_age: int = 14
    default_checkin_radius_m: int = 500
    default_timezone: str = "Asia/Shanghai"
    privacy_notice_version: str = "1"
    # 2-6.3 a, 2-7.5.2: check-in opens this long before the start and closes at the end; check-out
    # stays open for the grace period after the end, then the system closes what is still open.
    checkin_opens_before_min: int = 60
    checkout_grace_min: int = 60
    # 2-6.3 a: present for less than this share of the scheduled time, a session earns no hours.
    minimum_presence_share: Decimal = Decimal("0.6")
    checkin_code_period_s: int = 300  # the leader's rotating code changes this often
    # PIPL art. 28: raw check-in coordinates (kept only with location consent) are purged after this.
    location_retention_days: int = 30
    # 2-6.3 c: a make-up request is filed within this many days of the activity's end.
    makeup_within_days: int = 30
    # 4-6.2.1: volunteer stars by confirmed hours (one star at the first threshold).
    star_thresholds: tuple[int, ...] = (100, 300, 600, 1000, 1500)
    # 3-6.1.3.3: this many hours before the start, an activity still short of volunteers (and with
    # nobody left on its waitlist) offers its staff the temporary call.
    low_turnout_alert_h: int = 48
    # 3-6.2.3: confirmed volunteers are reminded this many hours before the start, with how to check in.
    reminder_day_before_h: int = 24
    reminder_hours_before: int = 2
    # 4-6.2.1: a star is in force this long after the volunteer's last confirmed service.
    star_validity_days: int = 365
    # 1-8: a complaint unanswered this many hours after it was filed is escalated to the org above.
    complaint_response_h: int = 72
    # 4-5.5: the certificate's QR code points at <public url>/verify/<number>.
    public_url: str = "http://127.0.0.1:8080"
    certificate_issuer: str = "科技志愿服务平台"
