with variants as (

    select * from {{ ref('stg_orderspace__product_variants') }}

),

products as (

    select * from {{ ref('stg_orderspace__products') }}

),

inventory as (

    select * from {{ ref('stg_orderspace__inventory_levels') }}
    where not is_deleted

)

select
    variants.source_relation,
    variants.product_variant_id,
    variants.sku,
    variants.product_id,
    products.product_code,
    products.product_name,
    {{ orderspace_json_column('variants.variant_options') }} as variant_options,
    variants.barcode,
    products.is_active,
    products.grouping_category_id,
    {{ orderspace_json_column('products.categories') }} as categories,
    products.country_of_origin,
    products.tariff_code,
    {{ orderspace_site_currency('variants.source_relation') }} as currency,
    variants.unit_price,
    variants.rrp,
    variants.allows_backorder,
    coalesce(variants.minimum_quantity, products.minimum_quantity) as minimum_quantity,
    variants.order_multiple,
    variants.weight,
    variants.tax_rate_id,
    variants.location,
    inventory.on_hand,
    inventory.available,
    -- Deleted with its product, or on its own: kept, because order lines still name its SKU.
    variants.is_deleted or coalesce(products.is_deleted, false) as is_deleted
from variants
left join products
    on variants.source_relation = products.source_relation
    and variants.product_id = products.product_id
left join inventory
    on variants.source_relation = inventory.source_relation
    and variants.sku = inventory.sku
