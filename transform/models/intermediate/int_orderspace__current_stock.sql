-- Stock levels Orderspace still has, for the inventory_history snapshot: a SKU deleted since
-- leaves it (its row is closed, not kept open with stale figures).
select source_relation, sku, on_hand, available
from {{ ref('stg_orderspace__inventory_levels') }}
where not is_deleted
