-- Reconciliation, per site and currency, from staging rather than through the marts' own steps:
-- what fct_invoices says is owed equals the unpaid invoices' gross totals less their payments, and
-- the receivables are that less the proforma invoices and those of cancelled orders.
with payments as (

    select source_relation, invoice_id, sum(amount) as amount
    from {{ ref('stg_orderspace__invoice_payments') }}
    where not is_deleted
    group by 1, 2

),

cancelled_only as (

    -- Invoices every one of whose known orders is cancelled.
    select links.source_relation, links.invoice_id
    from {{ ref('int_orderspace__invoice_orders') }} as links
    inner join {{ ref('stg_orderspace__orders') }} as orders
        on links.source_relation = orders.source_relation
        and links.order_id = orders.order_id
    group by 1, 2
    having min(case when orders.order_status = 'cancelled' then 1 else 0 end) = 1

),

expected as (

    select
        invoices.source_relation,
        invoices.currency,
        sum(invoices.gross_total - coalesce(payments.amount, 0)) as outstanding,
        sum(
            case when coalesce(invoices.is_proforma, false) or cancelled_only.invoice_id is not null then 0
            else invoices.gross_total - coalesce(payments.amount, 0) end
        ) as receivable
    from {{ ref('stg_orderspace__invoices') }} as invoices
    left join payments
        on invoices.source_relation = payments.source_relation
        and invoices.invoice_id = payments.invoice_id
    left join cancelled_only
        on invoices.source_relation = cancelled_only.source_relation
        and invoices.invoice_id = cancelled_only.invoice_id
    where not invoices.is_deleted
        and not coalesce(invoices.is_paid, false)
    group by 1, 2

),

reported as (

    select source_relation, currency, sum(amount_outstanding) as outstanding, sum(amount_receivable) as receivable
    from {{ ref('fct_invoices') }}
    group by 1, 2

)

select
    coalesce(reported.source_relation, expected.source_relation) as source_relation,
    coalesce(reported.currency, expected.currency) as currency,
    reported.outstanding as reported_outstanding,
    expected.outstanding as expected_outstanding,
    reported.receivable as reported_receivable,
    expected.receivable as expected_receivable
from reported
full outer join expected
    on reported.source_relation = expected.source_relation
    and reported.currency = expected.currency
-- To the penny: the tolerance is for emulators that add decimals through floating point (fakesnow).
where abs(coalesce(reported.outstanding, 0) - coalesce(expected.outstanding, 0)) > 0.0001
    or abs(coalesce(reported.receivable, 0) - coalesce(expected.receivable, 0)) > 0.0001
