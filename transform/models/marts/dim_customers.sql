with customers as (

    select * from {{ ref('stg_orderspace__customers') }}

),

customer_groups as (

    select * from {{ ref('stg_orderspace__customer_groups') }}

),

payment_terms as (

    select * from {{ ref('stg_orderspace__payment_terms') }}

),

price_lists as (

    select * from {{ ref('stg_orderspace__price_lists') }}

),

orders as (

    select
        customer_id,
        count(*) as order_count,
        min(created_at) as first_order_at,
        max(created_at) as last_order_at,
        sum(case when order_status <> 'cancelled' then gross_total else 0 end) as lifetime_gross_total
    from {{ ref('stg_orderspace__orders') }}
    group by customer_id

),

invoices as (

    select
        customer_id,
        count(*) as invoice_count,
        sum(amount_outstanding) as amount_outstanding
    from {{ ref('fct_invoices') }}
    group by customer_id

)

select
    customers.customer_id,
    customers.company_name,
    customers.customer_status,
    customers.customer_reference,
    customers.created_at,
    customers.phone,
    customers.email_addresses,
    customers.addresses,
    customers.tax_number,
    customers.tax_rate_id,
    customers.minimum_spend,
    customers.customer_group_id,
    customer_groups.customer_group_name,
    customers.payment_terms_id,
    payment_terms.payment_terms_name,
    payment_terms.days_due as payment_days_due,
    customers.price_list_id,
    price_lists.price_list_name,
    coalesce(orders.order_count, 0) as order_count,
    orders.first_order_at,
    orders.last_order_at,
    coalesce(orders.lifetime_gross_total, 0) as lifetime_gross_total,
    coalesce(invoices.invoice_count, 0) as invoice_count,
    coalesce(invoices.amount_outstanding, 0) as amount_outstanding
from customers
left join customer_groups
    on customers.customer_group_id = customer_groups.customer_group_id
left join payment_terms
    on customers.payment_terms_id = payment_terms.payment_terms_id
left join price_lists
    on customers.price_list_id = price_lists.price_list_id
left join orders
    on customers.customer_id = orders.customer_id
left join invoices
    on customers.customer_id = invoices.customer_id
