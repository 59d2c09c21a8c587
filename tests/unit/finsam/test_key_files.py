"""Issue 16: key files others may read, one key for both purposes, or a guessable key are refused
before anything starts; a good pair of keys is taken."""

from __future__ import annotations

import base64
import os

import pytest

from finsam.errors import KeyFileError
from finsam.privacy import read_key_file, read_keys, weakness, write_new_keys


def _key(path, content: bytes, mode: int = 0o600):
    path.write_bytes(content)
    path.chmod(mode)
    return path


def test_fresh_keys_are_taken(tmp_path):
    pseudonym, vault = write_new_keys(tmp_path / "keys")
    keys = read_keys(pseudonym, vault)
    assert keys.pseudonymiser.master_key != keys.vault.key


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_key_file_group_or_others_may_read_is_refused(tmp_path, mode):
    pseudonym, _ = write_new_keys(tmp_path / "keys")
    pseudonym.chmod(mode)
    with pytest.raises(KeyFileError, match=f"grupp eller andra.*{mode:04o}.*chmod 600"):
        read_key_file(pseudonym, "FINSAM_PSEUDONYM_KEY_FILE")


def test_the_same_key_for_both_purposes_is_refused(tmp_path):
    _, vault = write_new_keys(tmp_path / "keys")
    copy = _key(tmp_path / "copy.key", vault.read_bytes())
    with pytest.raises(KeyFileError, match="samma nyckel"):
        read_keys(copy, vault)


@pytest.mark.parametrize("content", [
    b"a" * 64,                                   # one symbol
    b"abcabcabcabcabcabcabcabcabcabcabcabc",     # three symbols
    b"0123456789abcdef" * 4,                      # a repeated pattern with many symbols
    b"passwordpassword1passwordpassword1",        # a word repeated
])
def test_a_guessable_pseudonym_key_is_refused(tmp_path, content):
    path = _key(tmp_path / "p.key", content)
    with pytest.raises(KeyFileError, match="lätt att gissa"):
        read_key_file(path, "FINSAM_PSEUDONYM_KEY_FILE")
    assert weakness(content) is not None


def test_a_fernet_key_of_non_random_bytes_is_refused(tmp_path):
    pseudonym, _ = write_new_keys(tmp_path / "keys")
    # a valid Fernet key (32 bytes, url-safe base64) whose bytes are one pattern repeated
    weak = _key(tmp_path / "v.key", base64.urlsafe_b64encode(bytes(range(8)) * 4))
    with pytest.raises(KeyFileError, match="VAULT.*(gissa|slump)"):
        read_keys(pseudonym, weak)


def test_a_vault_key_that_is_no_fernet_key_is_refused(tmp_path):
    pseudonym, _ = write_new_keys(tmp_path / "keys")
    other = _key(tmp_path / "v.key", os.urandom(48).hex().encode())
    with pytest.raises(KeyFileError, match="Fernet"):
        read_keys(pseudonym, other)


def test_random_keys_are_not_called_weak():
    for _ in range(50):
        assert weakness(os.urandom(32).hex().encode()) is None
        assert weakness(base64.urlsafe_b64encode(os.urandom(32))) is None
