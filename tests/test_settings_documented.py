from pathlib import Path

from newswire.config import SETTINGS

README = (Path(__file__).resolve().parents[1] / "README.md").read_text()


def test_every_setting_is_documented_in_the_readme():
    missing = [s.env for s in SETTINGS.values() if f"`{s.env}`" not in README]
    assert not missing, f"undocumented settings: {missing}"
