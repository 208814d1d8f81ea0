"""The meetings tests' council, school and agencies: an update's audiences."""

from tests.meetings.conftest import agencies  # noqa: F401  (fixtures shared)
from tests.referrals.conftest import dsl, place  # noqa: F401
