-- One row per (invoice, order) the invoice covers, from the invoice's `orders` list, with the
-- order's share of the invoice: its lines' gross amount on the invoice (invoice lines point at
-- order lines), or equal shares when no line says.
with invoices as (

    select source_relation, invoice_id, orders, is_deleted
    from {{ ref('stg_orderspace__invoices') }}

),

links as (

    select distinct
        invoices.source_relation,
        invoices.invoice_id,
        {{ as_text(orderspace_json_item_field('covered', 'id')) }} as order_id,
        {{ as_integer(as_decimal(orderspace_json_item_field('covered', 'number'))) }} as order_number,
        invoices.is_deleted as is_invoice_deleted
    from invoices
    {{ orderspace_json_array_join('invoices.orders', 'covered') }}

),

line_amounts as (

    select
        invoice_lines.source_relation,
        invoice_lines.invoice_id,
        order_lines.order_id,
        sum(invoice_lines.sub_total + coalesce(invoice_lines.tax_amount, 0)) as line_gross_amount
    from {{ ref('stg_orderspace__invoice_lines') }} as invoice_lines
    inner join {{ ref('stg_orderspace__order_lines') }} as order_lines
        on invoice_lines.source_relation = order_lines.source_relation
        and invoice_lines.order_line_id = order_lines.order_line_id
    group by 1, 2, 3

),

weighted as (

    select
        links.*,
        case
            when sum(coalesce(line_amounts.line_gross_amount, 0)) over (partition by links.source_relation, links.invoice_id) > 0
                then coalesce(line_amounts.line_gross_amount, 0)
            else 1
        end as weight
    from links
    left join line_amounts
        on links.source_relation = line_amounts.source_relation
        and links.invoice_id = line_amounts.invoice_id
        and links.order_id = line_amounts.order_id
    where links.order_id is not null

)

select
    *,
    count(*) over (partition by source_relation, invoice_id) as invoice_order_count,
    -- Cumulative weights: rounding each order's running total, not its own share, makes the
    -- allocated amounts add up to the invoice's to the penny.
    sum(weight) over (partition by source_relation, invoice_id order by order_id rows between unbounded preceding and current row) as weight_through,
    sum(weight) over (partition by source_relation, invoice_id) as weight_total
from weighted
