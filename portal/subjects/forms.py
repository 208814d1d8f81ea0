"""Inviting a subject."""

from __future__ import annotations

from portal.fields import Form, email_field, full_name_field, submit_field


class SubjectInviteForm(Form):
    full_name = full_name_field("Their name")
    email = email_field(description="Their own address: we send the invitation there")
    invite = submit_field("Send the invitation")
