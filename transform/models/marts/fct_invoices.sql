{%- set buckets = var('orderspace_ageing_buckets') -%}

with invoices as (

    select * from {{ ref('stg_orderspace__invoices') }}

),

payments as (

    select
        invoice_id,
        count(*) as payment_count,
        sum(amount) as amount_paid,
        max(payment_date) as last_payment_date
    from {{ ref('stg_orderspace__invoice_payments') }}
    group by invoice_id

),

lines as (

    select invoice_id, count(*) as line_count
    from {{ ref('stg_orderspace__invoice_lines') }}
    group by invoice_id

),

amounts as (

    select
        invoices.invoice_id,
        invoices.invoice_number,
        invoices.customer_id,
        invoices.company_name,
        invoices.invoice_date,
        cast({{ dbt.date_trunc('month', 'invoices.invoice_date') }} as {{ orderspace_date() }}) as invoice_month,
        invoices.due_date,
        invoices.payment_terms_id,
        invoices.payment_terms_name,
        invoices.is_paid,
        invoices.is_proforma,
        invoices.currency,
        invoices.net_total,
        invoices.gross_total - invoices.net_total as tax_total,
        invoices.gross_total,
        coalesce(lines.line_count, 0) as line_count,
        coalesce(payments.payment_count, 0) as payment_count,
        payments.last_payment_date,
        {{ as_decimal('coalesce(payments.amount_paid, 0)') }} as amount_paid,
        {{ as_decimal('invoices.gross_total - coalesce(payments.amount_paid, 0)') }} as amount_outstanding
    from invoices
    left join payments
        on invoices.invoice_id = payments.invoice_id
    left join lines
        on invoices.invoice_id = lines.invoice_id

),

overdue as (

    select
        *,
        case
            when amount_outstanding > 0 and due_date < current_date
                then {{ dbt.datediff('due_date', 'current_date', 'day') }}
            else 0
        end as days_overdue
    from amounts

)

select
    *,
    -- Receivables ageing: days past the due date of what is still owed; nothing owed is current.
    case
        when days_overdue <= 0 then 'current'
        when days_overdue <= {{ buckets[0] }} then '1-{{ buckets[0] }}'
        when days_overdue <= {{ buckets[1] }} then '{{ buckets[0] + 1 }}-{{ buckets[1] }}'
        when days_overdue <= {{ buckets[2] }} then '{{ buckets[1] + 1 }}-{{ buckets[2] }}'
        else 'over {{ buckets[2] }}'
    end as ageing_bucket
from overdue
