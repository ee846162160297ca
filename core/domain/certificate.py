"""4-5.5: service-record certificates (志愿服务记录证明): free, truthful, on request, verifiable by a
third party. A certificate is an immutable snapshot of confirmed hours at the moment it was issued.
2-7.4: the training certificate (科技志愿培训证明) is one too, of the trainings completed; same register."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from core.domain.codes import TrainingKind

# Unambiguous when read aloud or typed from paper: no 0/O, 1/I/L.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_certificate_number(issued_on: date) -> str:
    """STVS-2026-7K3QX9M2: the year, then 8 random characters (31**8 ≈ 8.5e11: not guessable)."""
    return f"STVS-{issued_on.year}-" + "".join(secrets.choice(_ALPHABET) for _ in range(8))


class CertificateKind(StrEnum):
    SERVICE = "service"  # 4-5.5: 志愿服务记录证明
    TRAINING = "training"  # 2-7.4: 科技志愿培训证明


class CertificateStatus(StrEnum):
    VALID = "valid"
    REVOKED = "revoked"


@dataclass(frozen=True)
class CertificateLine:
    """One activity's confirmed hours on the certificate."""

    activity_title: str
    org_name: str
    day: date  # the day it was held, where it was held
    hours: Decimal
    kind: TrainingKind | None = None  # a training certificate's line: which training (3-6.2.1)

    def as_json(self) -> dict[str, Any]:
        data = {
            "activity_title": self.activity_title,
            "org_name": self.org_name,
            "day": self.day.isoformat(),
            "hours": str(self.hours),
        }
        if self.kind is not None:
            data["kind"] = self.kind.value
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CertificateLine:
        kind = data.get("kind")
        return cls(
            data["activity_title"],
            data["org_name"],
            date.fromisoformat(data["day"]),
            Decimal(data["hours"]),
            TrainingKind(kind) if kind else None,
        )


@dataclass(frozen=True)
class CertificateSnapshot:
    """What the certificate says, fixed when issued: rendering it again gives the same document."""

    number: str
    volunteer_name: str
    masked_id_number: str  # "" when no ID number is on record
    volunteer_number: str
    period_start: date | None  # None: no confirmed hours yet
    period_end: date | None
    total_hours: Decimal
    lines: tuple[CertificateLine, ...]
    issuer: str
    issued_on: date
    verify_url: str  # where the QR code points: <public url>/verify/<number>
    kind: CertificateKind = CertificateKind.SERVICE

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "number": self.number,
            "volunteer_name": self.volunteer_name,
            "masked_id_number": self.masked_id_number,
            "volunteer_number": self.volunteer_number,
            "period_start": self.period_start.isoformat() if self.period_start else None,
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "total_hours": str(self.total_hours),
            "lines": [line.as_json() for line in self.lines],
            "issuer": self.issuer,
            "issued_on": self.issued_on.isoformat(),
            "verify_url": self.verify_url,
        }
        if self.kind is not CertificateKind.SERVICE:
            data["kind"] = self.kind.value  # written only when not SERVICE: earlier snapshots read the same
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CertificateSnapshot:
        def day(value: str | None) -> date | None:
            return date.fromisoformat(value) if value else None

        return cls(
            number=data["number"],
            volunteer_name=data["volunteer_name"],
            masked_id_number=data["masked_id_number"],
            volunteer_number=data["volunteer_number"],
            period_start=day(data["period_start"]),
            period_end=day(data["period_end"]),
            total_hours=Decimal(data["total_hours"]),
            lines=tuple(CertificateLine.from_json(line) for line in data["lines"]),
            issuer=data["issuer"],
            issued_on=date.fromisoformat(data["issued_on"]),
            verify_url=data["verify_url"],
            kind=CertificateKind(data.get("kind", CertificateKind.SERVICE.value)),
        )


@dataclass(eq=False)
class Certificate:
    """The register's row: the snapshot, who it is for, and whether it still stands."""

    number: str
    volunteer_id: int
    issued_at: datetime
    snapshot: dict[str, Any] = field(default_factory=dict)  # CertificateSnapshot.as_json()
    kind: CertificateKind = CertificateKind.SERVICE
    status: CertificateStatus = CertificateStatus.VALID
    revoked_at: datetime | None = None
    revoke_reason: str | None = None
    id: int | None = None

    @property
    def verifies(self) -> bool:
        """4-5.5: what a third party is told; a revoked certificate attests nothing."""
        return self.status is CertificateStatus.VALID

    @property
    def content(self) -> CertificateSnapshot:
        return CertificateSnapshot.from_json(self.snapshot)
