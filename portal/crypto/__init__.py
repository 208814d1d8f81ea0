"""Field-level encryption: the keyring, the envelope format, the key hierarchy, encrypted
model attributes, blind indexes and streaming file encryption.

This package imports nothing of the application: the application gives it a key store
(its database) and tells it where the running key manager is (portal/keystore.py).

Key hierarchy::

    keyring (instance/keys.json or PORTAL_KEYS, never in the database)
      key-encryption keys (KEKs)  --wrap-->  deployment and authority data keys
      index keys                 --HMAC-->  blind indexes
    authority data key  --wraps-->  per-case data keys (destroy one: crypto-shredding)
    data key  --HKDF(table, column)-->  the AES-256-GCM key for one column's values
"""

from portal.crypto.envelope import OVERHEAD, DecryptionError
from portal.crypto.keyring import Keyring, KeyringError
from portal.crypto.keys import KeyManager, KeyOwner

__all__ = [
    "OVERHEAD",
    "DecryptionError",
    "KeyManager",
    "KeyOwner",
    "Keyring",
    "KeyringError",
]
