"""stock ledger

Revision ID: 22959ba9e632
Revises: 1304b428157f
Create Date: 2026-12-02 04:48:34.310432

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '22959ba9e632'
down_revision = '1304b428157f'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('stock_movements',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('variant_id', sa.Integer(), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('kind', sa.Enum('opening', 'received', 'counted', 'written_off', 'returned', 'reserved', 'released', name='stock_movement', native_enum=False, create_constraint=True, length=32), nullable=False),
    sa.Column('quantity', sa.Integer(), nullable=False),
    sa.Column('balance_after', sa.Integer(), nullable=False),
    sa.Column('reference', sa.String(length=120), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('actor_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['actor_id'], ['users.id'], name=op.f('fk_stock_movements_actor_id_users')),
    sa.ForeignKeyConstraint(['variant_id'], ['variants.id'], name=op.f('fk_stock_movements_variant_id_variants')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_stock_movements'))
    )
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_stock_movements_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_stock_movements_variant_id'), ['variant_id'], unique=False)

    # Stock is never negative, and each variant's ledger opens with the stock it has now.
    op.execute("UPDATE variants SET stock_on_hand = 0 WHERE stock_on_hand < 0")
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.create_check_constraint('stock_on_hand_not_negative', 'stock_on_hand >= 0')
        batch_op.create_index(
            'ix_variants_low_stock',
            ['product_id'],
            unique=False,
            postgresql_where=sa.text('stock_on_hand <= reorder_level'),
            sqlite_where=sa.text('stock_on_hand <= reorder_level'),
        )
    now = "timezone('utc', now())" if op.get_bind().dialect.name == "postgresql" else "CURRENT_TIMESTAMP"
    op.execute(
        "INSERT INTO stock_movements (variant_id, created_at, kind, quantity, balance_after, reference, reason) "
        f"SELECT id, {now}, 'opening', stock_on_hand, stock_on_hand, '', '' FROM variants WHERE stock_on_hand <> 0"
    )


def downgrade():
    with op.batch_alter_table('stock_movements', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_stock_movements_variant_id'))
        batch_op.drop_index(batch_op.f('ix_stock_movements_created_at'))

    op.drop_table('stock_movements')
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_index('ix_variants_low_stock')
        batch_op.drop_constraint('stock_on_hand_not_negative', type_='check')
