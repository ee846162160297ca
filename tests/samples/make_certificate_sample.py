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
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bots.certificate_pdf import render_certificate  # noqa: E402
from locales import translator  # noqa: E402
from tests.builders import certificate_snapshot  # noqa: E402

PDF = Path("/tmp/certificate-sample.pdf")


def main() -> None:
    PDF.write_bytes(render_certificate(certificate_snapshot(), translator("zh_CN")))
    target = ROOT / "tests" / "samples" / "certificate"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(PDF), str(target)], check=True)
    print(f"{PDF} → {target}-1.png")


if __name__ == "__main__":
    main()
