with customers as (

    select * from {{ ref('stg_orderspace__customers') }}

),

orders as (

    select * from {{ ref('int_orderspace__orders') }}
    where not is_deleted

),

invoices as (

    select * from {{ ref('int_orderspace__invoices') }}
    where not is_deleted

),

-- Customers that orders or invoices name but the customers table never held (deleted before the
-- first sync): kept, so that every order and invoice joins, with the name the latest order gives.
unseen as (

    select source_relation, customer_id, company_name
    from (
        select
            source_relation,
            customer_id,
            company_name,
            row_number() over (partition by source_relation, customer_id order by issued_at desc) as latest
        from (
            select source_relation, customer_id, company_name, created_at as issued_at from orders
            union all
            select source_relation, customer_id, company_name, {{ as_timestamp('invoice_date') }} as issued_at from invoices
        ) as named
        where customer_id is not null
    ) as ranked
    where latest = 1
        and not exists (
            select 1 from customers
            where customers.source_relation = ranked.source_relation
                and customers.customer_id = ranked.customer_id
        )

),

all_customers as (

    select
        source_relation,
        customer_id,
        company_name,
        customer_status,
        customer_reference,
        created_at,
        phone,
        email_addresses,
        addresses,
        tax_number,
        tax_rate_id,
        minimum_spend,
        customer_group_id,
        payment_terms_id,
        price_list_id,
        is_deleted
    from customers

    union all

    select
        source_relation,
        customer_id,
        company_name,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        null,
        true
    from unseen

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

latest_order_currency as (

    select source_relation, customer_id, currency
    from (
        select
            source_relation,
            customer_id,
            currency,
            row_number() over (partition by source_relation, customer_id order by created_at desc, order_id) as latest
        from orders
        where is_sale and currency is not null
    ) as ranked
    where latest = 1

),

-- The currency a customer's money columns are in: their price list's, else their latest order's,
-- else the site's own.
with_currency as (

    select
        all_customers.*,
        customer_groups.customer_group_name,
        payment_terms.payment_terms_name,
        payment_terms.days_due as payment_days_due,
        price_lists.price_list_name,
        coalesce(price_lists.currency, latest_order_currency.currency, {{ orderspace_site_currency('all_customers.source_relation') }}) as currency
    from all_customers
    left join customer_groups
        on all_customers.source_relation = customer_groups.source_relation
        and all_customers.customer_group_id = customer_groups.customer_group_id
    left join payment_terms
        on all_customers.source_relation = payment_terms.source_relation
        and all_customers.payment_terms_id = payment_terms.payment_terms_id
    left join price_lists
        on all_customers.source_relation = price_lists.source_relation
        and all_customers.price_list_id = price_lists.price_list_id
    left join latest_order_currency
        on all_customers.source_relation = latest_order_currency.source_relation
        and all_customers.customer_id = latest_order_currency.customer_id

),

order_totals as (

    select
        orders.source_relation,
        orders.customer_id,
        count(*) as order_count,
        min(orders.created_at) as first_order_at,
        max(orders.created_at) as last_order_at,
        sum(case when orders.currency = customers.currency then orders.gross_total else 0 end) as lifetime_gross_total,
        sum(case when orders.currency = customers.currency then 0 else 1 end) as other_currency_order_count
    from orders
    inner join with_currency as customers
        on orders.source_relation = customers.source_relation
        and orders.customer_id = customers.customer_id
    where orders.is_sale
    group by 1, 2

),

invoice_totals as (

    select
        invoices.source_relation,
        invoices.customer_id,
        count(*) as invoice_count,
        sum(case when invoices.currency = customers.currency then invoices.amount_outstanding else 0 end) as amount_outstanding,
        sum(case when invoices.currency = customers.currency then invoices.amount_receivable else 0 end) as amount_receivable,
        sum(case when invoices.currency = customers.currency then 0 else 1 end) as other_currency_invoice_count
    from invoices
    inner join with_currency as customers
        on invoices.source_relation = customers.source_relation
        and invoices.customer_id = customers.customer_id
    group by 1, 2

)

select
    customers.source_relation,
    customers.customer_id,
    customers.company_name,
    customers.customer_status,
    customers.customer_reference,
    customers.created_at,
    customers.phone,
    {{ orderspace_json_column('customers.email_addresses') }} as email_addresses,
    {{ orderspace_json_column('customers.addresses') }} as addresses,
    customers.tax_number,
    customers.tax_rate_id,
    customers.minimum_spend,
    customers.customer_group_id,
    customers.customer_group_name,
    customers.payment_terms_id,
    customers.payment_terms_name,
    customers.payment_days_due,
    customers.price_list_id,
    customers.price_list_name,
    customers.currency,
    coalesce(order_totals.order_count, 0) as order_count,
    order_totals.first_order_at,
    order_totals.last_order_at,
    {{ as_decimal('coalesce(order_totals.lifetime_gross_total, 0)') }} as lifetime_gross_total,
    coalesce(invoice_totals.invoice_count, 0) as invoice_count,
    {{ as_decimal('coalesce(invoice_totals.amount_outstanding, 0)') }} as amount_outstanding,
    {{ as_decimal('coalesce(invoice_totals.amount_receivable, 0)') }} as amount_receivable,
    {{ as_integer('coalesce(order_totals.other_currency_order_count, 0) + coalesce(invoice_totals.other_currency_invoice_count, 0)') }}
        as other_currency_count,
    customers.is_deleted
from with_currency as customers
left join order_totals
    on customers.source_relation = order_totals.source_relation
    and customers.customer_id = order_totals.customer_id
left join invoice_totals
    on customers.source_relation = invoice_totals.source_relation
    and customers.customer_id = invoice_totals.customer_id
