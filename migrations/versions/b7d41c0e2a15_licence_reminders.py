"""licences watched: the reminders sent as a licence runs out (each once per application, expiry
date and kind), and a renewed licence sent early waiting beside the approved one

Revision ID: b7d41c0e2a15
Revises: 6cf1782ba038
Create Date: 2026-12-07 00:03:53.547076

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b7d41c0e2a15'
down_revision = '6cf1782ba038'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('licence_reminders',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('expires_on', sa.Date(), nullable=False),
    sa.Column('kind', sa.Enum('30_days', '7_days', 'lapsed', name='licence_reminder_kind', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('sent_at', sa.DateTime(), nullable=False),
    sa.Column('message_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['licence_applications.id'], name=op.f('fk_licence_reminders_application_id_licence_applications')),
    sa.ForeignKeyConstraint(['message_id'], ['outbox_messages.id'], name=op.f('fk_licence_reminders_message_id_outbox_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_licence_reminders')),
    sa.UniqueConstraint('application_id', 'expires_on', 'kind', name='uq_licence_reminders_application_expiry_kind')
    )
    with op.batch_alter_table('licence_reminders', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_licence_reminders_application_id'), ['application_id'], unique=False)

    with op.batch_alter_table('licence_applications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('renewal_expiry', sa.Date(), nullable=True))
        batch_op.add_column(sa.Column('renewal_sent_at', sa.DateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('licence_applications', schema=None) as batch_op:
        batch_op.drop_column('renewal_sent_at')
        batch_op.drop_column('renewal_expiry')

    with op.batch_alter_table('licence_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_licence_reminders_application_id'))

    op.drop_table('licence_reminders')
