"""The README's quick start, as pasted, against `serve run serve_config.yaml`: both sessions end with a note."""
from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_quickstart_ends_each_session_with_a_cited_masked_note(serve_run):
    serve_run.start()
    out = subprocess.run(["bash", "scripts/quickstart.sh"], cwd=ROOT, capture_output=True, text=True, timeout=900,
                         env={**os.environ, "BASE": serve_run.url, "TOKEN": serve_run.token})
    print(out.stdout)
    assert out.returncode == 0, out.stderr[-2000:]
    text_part, audio_part = out.stdout.split("== 2.")
    transcript = "\n".join(line for line in text_part.splitlines() if line.startswith("  [s"))
    assert "[PERSON_1]" in transcript and "Margaret Thompson" not in transcript
    assert "07700 900123" not in transcript
    assert '"[PERSON_1]":"Margaret Thompson"' in text_part  # the owner's names view
    for part in (text_part, audio_part):
        items = re.findall(r"^  (subjective|objective|assessment|plan) +.+  <- s\d+", part, re.M)
        assert items, part
        assert "status: finished" in part
    assert len(re.findall(r"^  \[s\d+\] (doctor|patient)", audio_part, re.M)) >= 3  # roles on the recording
