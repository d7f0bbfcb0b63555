-- Reconciliation: every order's lines add up to its net and gross totals, as the API reports them.
-- A warning by default: a difference is in Orderspace's own figures, which the marts carry as they
-- are, and must not stop the nightly build; set orderspace_source_check_severity to 'error' to stop it.
{{ config(severity=var('orderspace_source_check_severity')) }}
with lines as (

    select source_relation, order_id, sum(net_amount) as net_amount, sum(gross_amount) as gross_amount
    from {{ ref('fct_order_lines') }}
    group by 1, 2

)

select orders.source_relation, orders.order_id, orders.net_total, lines.net_amount, orders.gross_total, lines.gross_amount
from {{ ref('fct_orders') }} as orders
left join lines
    on orders.source_relation = lines.source_relation
    and orders.order_id = lines.order_id
where abs(orders.net_total - coalesce(lines.net_amount, 0)) > {{ var('orderspace_reconciliation_tolerance') }}
    or abs(orders.gross_total - coalesce(lines.gross_amount, 0)) > {{ var('orderspace_reconciliation_tolerance') }}
