"""Local disk storage: a key's folder is made when it is missing, a file is whole or absent, keys
stay inside the storage folder."""

from pathlib import Path

import pytest

from townhall.storage import LocalDiskStorage


def test_put_makes_a_missing_folder_and_writes_into_an_existing_one(tmp_path: Path) -> None:
    storage = LocalDiskStorage(tmp_path / "storage")  # not there yet either
    storage.put("documents/t/ab/one", b"first")
    storage.put("documents/t/ab/two", b"second")  # the folder exists now
    storage.put("documents/t/ab/one", b"replaced")
    assert (storage.get("documents/t/ab/one"), storage.get("documents/t/ab/two")) == (b"replaced", b"second")
    assert sorted(p.name for p in (tmp_path / "storage" / "documents" / "t" / "ab").iterdir()) == ["one", "two"]


@pytest.mark.parametrize("key", ["../outside", "documents/../../outside", "/absolute", ""])
def test_keys_stay_inside_the_folder(tmp_path: Path, key: str) -> None:
    with pytest.raises(ValueError, match="not a storage key"):
        LocalDiskStorage(tmp_path).put(key, b"x")
