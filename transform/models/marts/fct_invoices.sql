with invoices as (

    select * from {{ ref('int_orderspace__invoices') }}
    where not is_deleted

),

aged as (

    select
        *,
        {{ orderspace_as_of_date() }} as as_of_date,
        -- Receivables only: days past the due date (the deposit's, while it is unpaid) of what is still owed.
        {{ as_integer("case
            when not is_receivable then null
            when amount_receivable > 0 and ageing_due_date < " ~ orderspace_as_of_date() ~ "
                then " ~ dbt.datediff('ageing_due_date', orderspace_as_of_date(), 'day') ~ "
            else 0
        end") }} as days_overdue
    from invoices

)

select
    source_relation,
    invoice_id,
    invoice_number,
    customer_id,
    company_name,
    invoice_date,
    cast({{ dbt.date_trunc('month', 'invoice_date') }} as {{ orderspace_date() }}) as invoice_month,
    due_date,
    payment_terms_id,
    payment_terms_name,
    {{ as_integer('order_count') }} as order_count,
    is_paid,
    is_proforma,
    is_cancelled_order_invoice,
    is_receivable,
    currency,
    net_total,
    {{ as_decimal('gross_total - net_total') }} as tax_total,
    gross_total,
    {{ as_integer('line_count') }} as line_count,
    {{ as_integer('payment_count') }} as payment_count,
    last_payment_date,
    amount_paid,
    amount_settled_outside_payments,
    amount_outstanding,
    amount_receivable,
    deposit_percentage,
    deposit_due_date,
    deposit_amount,
    deposit_outstanding,
    ageing_due_date,
    as_of_date,
    days_overdue,
    case when is_receivable then {{ orderspace_ageing_bucket('days_overdue') }} end as ageing_bucket
from aged
