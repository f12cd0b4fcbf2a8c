"""catalogue desk: product status, GTIN, reorder level

Revision ID: 1304b428157f
Revises: 3813cf2d0062
Create Date: 2026-12-02 04:24:57.071743

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '1304b428157f'
down_revision = '3813cf2d0062'
branch_labels = None
depends_on = None


def upgrade():
    # An active product stays active; one withdrawn before statuses existed is retired.
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('status', sa.Enum('draft', 'active', 'retired', name='product_status', native_enum=False, create_constraint=True, length=32), server_default='active', nullable=False))
        batch_op.create_index(batch_op.f('ix_products_prescription_only'), ['prescription_only'], unique=False)
        batch_op.create_index(batch_op.f('ix_products_status'), ['status'], unique=False)
    op.execute("UPDATE products SET status = CASE WHEN active THEN 'active' ELSE 'retired' END")
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('active')

    # SKUs are kept in capitals, so that they are unique whatever the case they are typed in.
    op.execute("UPDATE variants SET sku = UPPER(sku) WHERE sku <> UPPER(sku)")
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.add_column(sa.Column('gtin', sa.String(length=14), nullable=True))
        batch_op.add_column(sa.Column('reorder_level', sa.Integer(), server_default='10', nullable=False))
        batch_op.create_unique_constraint(batch_op.f('uq_variants_gtin'), ['gtin'])


def downgrade():
    with op.batch_alter_table('variants', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_variants_gtin'), type_='unique')
        batch_op.drop_column('reorder_level')
        batch_op.drop_column('gtin')

    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.BOOLEAN(), server_default=sa.true(), nullable=False))
    op.execute("UPDATE products SET active = (status = 'active')")
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_products_status'))
        batch_op.drop_index(batch_op.f('ix_products_prescription_only'))
        batch_op.drop_constraint('product_status', type_='check')
        batch_op.drop_column('status')
