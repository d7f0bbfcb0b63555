-- The bridge between invoices and the orders they cover: one row per (invoice, order), with the
-- invoice's amounts allocated to each order (int_orderspace__invoice_orders says how).
with links as (

    select * from {{ ref('int_orderspace__invoice_orders') }}
    where not is_invoice_deleted

),

invoices as (

    select * from {{ ref('int_orderspace__invoices') }}

),

{%- set allocate = "round({amount} * links.weight_through / links.weight_total, 2) - round({amount} * (links.weight_through - links.weight) / links.weight_total, 2)" %}

allocated as (

    select
        links.source_relation,
        links.invoice_id,
        links.order_id,
        invoices.invoice_number,
        links.order_number,
        invoices.invoice_date,
        invoices.customer_id,
        links.invoice_order_count,
        invoices.is_paid,
        invoices.is_receivable,
        invoices.currency,
        {{ as_decimal(allocate.format(amount='invoices.gross_total')) }} as gross_amount,
        {{ as_decimal(allocate.format(amount='invoices.amount_paid')) }} as amount_paid,
        {{ as_decimal(allocate.format(amount='invoices.amount_outstanding')) }} as amount_outstanding,
        {{ as_decimal(allocate.format(amount='invoices.amount_receivable')) }} as amount_receivable
    from links
    inner join invoices
        on links.source_relation = invoices.source_relation
        and links.invoice_id = invoices.invoice_id

)

select * from allocated
