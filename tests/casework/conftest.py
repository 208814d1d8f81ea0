"""The same council, schools and people as the referral tests."""

from tests.referrals.conftest import dsl, place  # noqa: F401  (fixtures shared)
