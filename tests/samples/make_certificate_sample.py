"""Regenerates tests/samples/certificate-1.png, page 1 of a sample certificate (Chinese, 3 lines).

Needs pdftoppm and, since STSong-Light is not embedded, a Chinese font for poppler to substitute
(without one the page shows boxes): apt-get install -y poppler-utils poppler-data fonts-wqy-zenhei.
From the repository root:

    .venv/bin/python tests/samples/make_certificate_sample.py

which writes /tmp/certificate-sample.pdf and runs
``pdftoppm -png -r 60 -f 1 -l 1 /tmp/certificate-sample.pdf tests/samples/certificate``."""

from __future__ import annotations

import subprocess
import sys
from datetime import date
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bots.certificate_pdf import render_certificate  # noqa: E402
from core.domain.certificate import CertificateLine, CertificateSnapshot  # noqa: E402
from locales import translator  # noqa: E402

PDF = Path("/tmp/certificate-sample.pdf")


def sample() -> CertificateSnapshot:
    lines = (
        CertificateLine("社区老年人智能手机使用辅导", "海淀区科学技术协会", date(2026, 3, 7), Decimal("4.0")),
        CertificateLine("青少年科学实验开放日", "北京市青少年科技中心", date(2026, 4, 12), Decimal("5.5")),
        CertificateLine("农村科普大篷车巡展讲解", "延庆区科普志愿服务队", date(2026, 5, 16), Decimal("3.0")),
    )
    return CertificateSnapshot(
        number="STVS-2026-7K3QX9M2",
        volunteer_name="欧阳小明",
        masked_id_number="1101**********002X",
        volunteer_number="V2026000123",
        period_start=date(2026, 3, 7),
        period_end=date(2026, 5, 16),
        total_hours=Decimal("12.5"),
        lines=lines,
        issuer="海淀区科学技术协会",
        issued_on=date(2026, 6, 1),
        verify_url="https://stvs.example.cn/verify/STVS-2026-7K3QX9M2",
    )


def main() -> None:
    PDF.write_bytes(render_certificate(sample(), translator("zh_CN")))
    target = ROOT / "tests" / "samples" / "certificate"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(PDF), str(target)], check=True)
    print(f"{PDF} → {target}-1.png")


if __name__ == "__main__":
    main()
