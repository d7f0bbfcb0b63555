-- Every invoice with its payments, what it covers and what is owed on it: the rules receivables
-- follow (docs/models.md, "Receivables").
with invoices as (

    select * from {{ ref('stg_orderspace__invoices') }}

),

payments as (

    select
        source_relation,
        invoice_id,
        count(*) as payment_count,
        sum(amount) as amount_paid,
        max(payment_date) as last_payment_date
    from {{ ref('stg_orderspace__invoice_payments') }}
    where not is_deleted
    group by 1, 2

),

lines as (

    select source_relation, invoice_id, count(*) as line_count
    from {{ ref('stg_orderspace__invoice_lines') }}
    where not is_deleted
    group by 1, 2

),

covered_orders as (

    select
        links.source_relation,
        links.invoice_id,
        count(*) as order_count,
        count(orders.order_id) as known_order_count,
        sum(case when orders.is_cancelled then 1 else 0 end) as cancelled_order_count
    from {{ ref('int_orderspace__invoice_orders') }} as links
    left join {{ ref('int_orderspace__orders') }} as orders
        on links.source_relation = orders.source_relation
        and links.order_id = orders.order_id
    group by 1, 2

),

amounts as (

    select
        invoices.*,
        coalesce(invoices.is_paid, false) as is_paid_in_full,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(payments.payment_count, 0) as payment_count,
        payments.last_payment_date,
        {{ as_decimal('coalesce(payments.amount_paid, 0)') }} as amount_paid,
        coalesce(covered_orders.order_count, 0) as order_count,
        -- Every order it covers (and that is known) is cancelled.
        coalesce(covered_orders.known_order_count > 0
            and covered_orders.cancelled_order_count = covered_orders.known_order_count, false) as is_cancelled_order_invoice,
        {{ as_decimal('round(invoices.gross_total * invoices.deposit_percentage / 100, 2)') }} as deposit_amount
    from invoices
    left join payments
        on invoices.source_relation = payments.source_relation
        and invoices.invoice_id = payments.invoice_id
    left join lines
        on invoices.source_relation = lines.source_relation
        and invoices.invoice_id = lines.invoice_id
    left join covered_orders
        on invoices.source_relation = covered_orders.source_relation
        and invoices.invoice_id = covered_orders.invoice_id

),

owed as (

    select
        *,
        -- Proforma invoices ask for payment before an order ships, and an invoice of cancelled
        -- orders is void: neither is a receivable.
        not coalesce(is_proforma, false) and not is_cancelled_order_invoice as is_receivable,
        -- `paid` means paid in full, whether or not the payments were recorded in Orderspace.
        {{ as_decimal('case when is_paid_in_full then 0 else gross_total - amount_paid end') }} as amount_outstanding,
        {{ as_decimal('case when is_paid_in_full and gross_total > amount_paid then gross_total - amount_paid else 0 end') }}
            as amount_settled_outside_payments,
        {{ as_decimal('case when not is_paid_in_full and deposit_amount > amount_paid then deposit_amount - amount_paid else 0 end') }}
            as deposit_outstanding
    from amounts

)

select
    *,
    {{ as_decimal('case when is_receivable then amount_outstanding else 0 end') }} as amount_receivable,
    -- What is owed falls due with the deposit's date while the deposit itself is unpaid.
    case
        when deposit_outstanding > 0 and deposit_due_date is not null and (due_date is null or deposit_due_date < due_date)
            then deposit_due_date
        else due_date
    end as ageing_due_date
from owed
