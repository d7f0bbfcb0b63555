-- What an accountant signs: nothing is owed on an invoice marked paid; proforma invoices and those of
-- cancelled orders are not receivables and are not aged; receivables are aged against as_of_date
-- from their due date, or the deposit's while it is unpaid.
select source_relation, invoice_id, 'paid but owing' as broken_rule
from {{ ref('fct_invoices') }}
where is_paid and (amount_outstanding <> 0 or amount_receivable <> 0)

union all

select source_relation, invoice_id, 'settled outside payments while unpaid'
from {{ ref('fct_invoices') }}
where not coalesce(is_paid, false) and amount_settled_outside_payments <> 0

union all

select source_relation, invoice_id, 'not a receivable but owed or aged'
from {{ ref('fct_invoices') }}
where (coalesce(is_proforma, false) or is_cancelled_order_invoice)
    and (is_receivable or amount_receivable <> 0 or ageing_bucket is not null or days_overdue is not null)

union all

select source_relation, invoice_id, 'receivable not aged'
from {{ ref('fct_invoices') }}
where is_receivable and (ageing_bucket is null or days_overdue is null)

union all

select source_relation, invoice_id, 'aged from the wrong date'
from {{ ref('fct_invoices') }}
where is_receivable
    and days_overdue <> case
        when amount_receivable > 0 and ageing_due_date < as_of_date
            then {{ dbt.datediff('ageing_due_date', 'as_of_date', 'day') }}
        else 0
    end

union all

select source_relation, invoice_id, 'unpaid deposit not aged from its due date'
from {{ ref('fct_invoices') }}
where deposit_outstanding > 0 and deposit_due_date < due_date and ageing_due_date <> deposit_due_date
