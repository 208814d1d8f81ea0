"""Cases: referrals and contacts, their subject, children and attachments

Revision ID: fad2180a6692
Revises: a2c4b73364fd
Create Date: 2026-11-23 19:13:35.950015

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'fad2180a6692'
down_revision = 'a2c4b73364fd'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('cases',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('authority_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=True),
    sa.Column('status', sa.Enum('draft', 'submitted', name='casestatus', native_enum=False, length=40), nullable=False),
    sa.Column('reference', sa.String(length=30), nullable=True),
    sa.Column('logged', sa.Boolean(), nullable=False),
    sa.Column('source_type', sa.Enum('public', 'education', 'health', 'local_authority', 'childrens_social_care', 'external_social_care', 'voluntary_regulatory', 'police', name='sourcetype', native_enum=False, length=40), nullable=True),
    sa.Column('contact_method', sa.Enum('phone', 'email', 'letter', 'in_person', name='contactmethod', native_enum=False, length=40), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('expiry_warned_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('submitted_by_id', sa.Uuid(), nullable=True),
    sa.Column('submitted_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('received_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('completed_sections', sa.JSON(), nullable=False),
    sa.Column('incident_on', sa.Date(), nullable=True),
    sa.Column('became_aware_on', sa.Date(), nullable=True),
    sa.Column('harm_category', sa.Enum('physical', 'sexual', 'emotional', 'neglect', 'transferable_risk', name='harmcategory', native_enum=False, length=40), nullable=True),
    sa.Column('criteria', sa.JSON(), nullable=True),
    sa.Column('police_informed', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('csc_informed', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('parents_informed', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('employment_action', sa.Enum('suspended', 'duties_adjusted', 'nothing_yet', 'not_applicable', name='employmentaction', native_enum=False, length=40), nullable=True),
    sa.Column('children_involved', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('unsaved_answers', sa.LargeBinary(), nullable=True),
    sa.Column('referrer_name', sa.LargeBinary(), nullable=True),
    sa.Column('referrer_role', sa.LargeBinary(), nullable=True),
    sa.Column('referrer_phone', sa.LargeBinary(), nullable=True),
    sa.Column('referrer_email', sa.LargeBinary(), nullable=True),
    sa.Column('referrer_organisation_name', sa.LargeBinary(), nullable=True),
    sa.Column('incident_dates_detail', sa.LargeBinary(), nullable=True),
    sa.Column('location', sa.LargeBinary(), nullable=True),
    sa.Column('allegation', sa.LargeBinary(), nullable=True),
    sa.Column('alleged_by', sa.LargeBinary(), nullable=True),
    sa.Column('came_to_light', sa.LargeBinary(), nullable=True),
    sa.Column('late_reason', sa.LargeBinary(), nullable=True),
    sa.Column('crime_reference', sa.LargeBinary(), nullable=True),
    sa.Column('other_agencies', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], name=op.f('fk_cases_authority_id_authorities')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_cases_created_by_id_users')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisations.id'], name=op.f('fk_cases_organisation_id_organisations')),
    sa.ForeignKeyConstraint(['submitted_by_id'], ['users.id'], name=op.f('fk_cases_submitted_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_cases')),
    sa.UniqueConstraint('authority_id', 'reference', name='uq_cases_authority_reference')
    )
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.create_index('ix_cases_authority_status', ['authority_id', 'status'], unique=False)
        batch_op.create_index('ix_cases_organisation_status', ['organisation_id', 'status'], unique=False)
        batch_op.create_index('ix_cases_status_updated', ['status', 'updated_at'], unique=False)

    op.create_table('reference_counters',
    sa.Column('authority_id', sa.Uuid(), nullable=False),
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('last', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], name=op.f('fk_reference_counters_authority_id_authorities')),
    sa.PrimaryKeyConstraint('authority_id', 'year', name=op.f('pk_reference_counters'))
    )
    op.create_table('case_attachments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('authority_id', sa.Uuid(), nullable=False),
    sa.Column('file_id', sa.Uuid(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('uploaded_by_id', sa.Uuid(), nullable=False),
    sa.Column('uploaded_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('filename', sa.LargeBinary(), nullable=False),
    sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], name=op.f('fk_case_attachments_authority_id_authorities')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_attachments_case_id_cases')),
    sa.ForeignKeyConstraint(['file_id'], ['stored_files.id'], name=op.f('fk_case_attachments_file_id_stored_files')),
    sa.ForeignKeyConstraint(['uploaded_by_id'], ['users.id'], name=op.f('fk_case_attachments_uploaded_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_attachments'))
    )
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_attachments_case_id'), ['case_id'], unique=False)

    op.create_table('children',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('authority_id', sa.Uuid(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('special_needs', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('known_to_social_care', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('name', sa.LargeBinary(), nullable=True),
    sa.Column('date_of_birth', sa.LargeBinary(), nullable=True),
    sa.Column('age', sa.LargeBinary(), nullable=True),
    sa.Column('gender', sa.LargeBinary(), nullable=True),
    sa.Column('setting', sa.LargeBinary(), nullable=True),
    sa.Column('words', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], name=op.f('fk_children_authority_id_authorities')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_children_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_children'))
    )
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.create_index('ix_children_case', ['case_id', 'position'], unique=False)

    op.create_table('subjects',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('case_id', sa.Uuid(), nullable=False),
    sa.Column('authority_id', sa.Uuid(), nullable=False),
    sa.Column('sector', sa.Enum('teaching', 'teaching_support', 'education_non_teaching', 'early_years', 'foster_carer_local_authority', 'foster_carer_agency', 'foster_carer_kinship', 'residential_local_authority', 'residential_private', 'health', 'social_work', 'police', 'probation', 'transport', 'sport', 'faith', 'youth_work', 'volunteer', 'other', name='subjectsector', native_enum=False, length=40), nullable=True),
    sa.Column('has_employer', sa.Boolean(), nullable=True),
    sa.Column('works_with_children', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('regulated', sa.Enum('yes', 'no', 'not_known', name='answer', native_enum=False, length=40), nullable=True),
    sa.Column('regulator', sa.Enum('tra', 'gmc', 'nmc', 'hcpc', 'social_work_england', 'ofsted', 'sports_body', 'other', name='regulatorybody', native_enum=False, length=40), nullable=True),
    sa.Column('full_name', sa.LargeBinary(), nullable=True),
    sa.Column('other_names', sa.LargeBinary(), nullable=True),
    sa.Column('date_of_birth', sa.LargeBinary(), nullable=True),
    sa.Column('address', sa.LargeBinary(), nullable=True),
    sa.Column('job_title', sa.LargeBinary(), nullable=True),
    sa.Column('employer', sa.LargeBinary(), nullable=True),
    sa.Column('regulator_other', sa.LargeBinary(), nullable=True),
    sa.ForeignKeyConstraint(['authority_id'], ['authorities.id'], name=op.f('fk_subjects_authority_id_authorities')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_subjects_case_id_cases')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subjects')),
    sa.UniqueConstraint('case_id', name=op.f('uq_subjects_case_id'))
    )
    # Not in batch mode: on SQLite that could copy the table, losing its append-only
    # triggers. Adding a column is a plain ALTER TABLE on both databases.
    op.add_column('audit_events', sa.Column('case_id', sa.Uuid(), nullable=True))
    op.create_index('ix_audit_events_case', 'audit_events', ['case_id', 'occurred_at'], unique=False)



def downgrade():
    # Not in batch mode: on SQLite that copies the table, losing its append-only triggers.
    op.drop_index('ix_audit_events_case', table_name='audit_events')
    op.execute("ALTER TABLE audit_events DROP COLUMN case_id")

    op.drop_table('subjects')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_index('ix_children_case')

    op.drop_table('children')
    with op.batch_alter_table('case_attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_attachments_case_id'))

    op.drop_table('case_attachments')
    op.drop_table('reference_counters')
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_status_updated')
        batch_op.drop_index('ix_cases_organisation_status')
        batch_op.drop_index('ix_cases_authority_status')

    op.drop_table('cases')
