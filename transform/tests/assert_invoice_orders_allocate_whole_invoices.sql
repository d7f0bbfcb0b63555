-- The bridge's allocations add up to each invoice's own amounts, to the penny (the tolerance is for
-- emulators that add decimals through floating point; exact arithmetic leaves no difference).
with allocated as (

    select
        source_relation,
        invoice_id,
        sum(gross_amount) as gross_amount,
        sum(amount_paid) as amount_paid,
        sum(amount_outstanding) as amount_outstanding,
        sum(amount_receivable) as amount_receivable
    from {{ ref('invoice_orders') }}
    group by 1, 2

)

select invoices.source_relation, invoices.invoice_id
from {{ ref('fct_invoices') }} as invoices
inner join allocated
    on invoices.source_relation = allocated.source_relation
    and invoices.invoice_id = allocated.invoice_id
where abs(invoices.gross_total - allocated.gross_amount) > 0.0001
    or abs(invoices.amount_paid - allocated.amount_paid) > 0.0001
    or abs(invoices.amount_outstanding - allocated.amount_outstanding) > 0.0001
    or abs(invoices.amount_receivable - allocated.amount_receivable) > 0.0001
