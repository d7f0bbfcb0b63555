{#-
  The latest version of every row of one raw table, for its staging model, from every site:
  the schemas in var('orderspace_union_schemas'), or the one source schema when it is unset. Each
  row carries `source_relation` (the raw schema it came from) and `is_deleted`. Every staging model
  selects from this and nothing else.

    stream      raw table (tap stream) name
    key         columns that identify a row; the latest by _sdc_extracted_at, then _sdc_batched_at, wins
    record_id   column that deleted_records.id names for this stream (none: the stream has no id of its own)
    parent      for a child table: (parent stream, column holding the parent's id)

  Deleted rows are kept, flagged, because orders and invoices outlive the customers and products
  they name. A row is deleted when any of these says so:
    - the loader marked it: _sdc_deleted_at is set (loaders that apply ACTIVATE_VERSION);
    - deleted_records holds (stream, its id), or (parent stream, its parent's id) for a child row;
    - reconciliations: its _sdc_extracted_at is older than the start of the latest completed full
      read of its stream (or of its parent's, which re-reads every child row), so that read did not see it.
  The change-capture tables and the _sdc_* columns are optional, per site: a missing table counts as
  empty, a missing column as null, so these models build on whatever the loader has landed so far.
-#}
{% macro orderspace_source_rows(stream, key=['id'], record_id='id', parent=none) %}
    {%- set default = source('orderspace', stream) -%}
    {%- if not execute -%}
        {{ return('select * from ' ~ default) }}
    {%- endif -%}

    {%- set sites = [] -%}
    {%- for schema in orderspace_schemas() -%}
        {%- set columns = orderspace_columns(orderspace_relation(default, schema)) -%}
        {%- if columns is not none -%}
            {%- do sites.append((schema, columns)) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if not sites -%}
        {#- No site has the table yet: fail on the source itself, naming it. -#}
        {{ return('select * from ' ~ default) }}
    {%- endif -%}

    {#- Every column any site has, in the order first seen; a site without one gives null. -#}
    {%- set all_columns = [] -%}
    {%- for schema, columns in sites -%}
        {%- for column in columns if column not in all_columns -%}
            {%- do all_columns.append(column) -%}
        {%- endfor -%}
    {%- endfor -%}

    {%- for schema, columns in sites %}
    {% if not loop.first %}union all{% endif %}
    {{ orderspace_site_rows(stream, schema, columns, all_columns, key, record_id, parent) }}
    {%- endfor %}
{% endmacro %}


{% macro orderspace_site_rows(stream, schema, columns, all_columns, key, record_id, parent) %}
    {%- set raw = orderspace_relation(source('orderspace', stream), schema) -%}
    {%- set deleted_records = orderspace_relation(source('orderspace', 'deleted_records'), schema) -%}
    {%- set reconciliations = orderspace_relation(source('orderspace', 'reconciliations'), schema) -%}
    {%- set deleted_columns = orderspace_columns(deleted_records) or [] -%}
    {%- set reconciliation_columns = orderspace_columns(reconciliations) or [] -%}
    {%- set has_deleted = 'stream' in deleted_columns and 'id' in deleted_columns -%}
    {%- set has_reconciliations = 'stream' in reconciliation_columns and 'started_at' in reconciliation_columns
        and '_sdc_extracted_at' in columns -%}
    {%- set streams = [stream] + ([parent[0]] if parent else []) -%}
    {%- set string = dbt.type_string() -%}

    {%- set order_by = [] -%}
    {%- for column in ['_sdc_extracted_at', '_sdc_batched_at'] if column in columns -%}
        {%- do order_by.append(column ~ ' desc nulls last') -%}
    {%- endfor -%}
    {%- if not order_by -%}{%- do order_by.extend(key) -%}{%- endif -%}

    {%- set deleted_when = [] -%}
    {%- if '_sdc_deleted_at' in columns -%}
        {%- do deleted_when.append('versions._sdc_deleted_at is not null') -%}
    {%- endif -%}
    {%- if has_deleted and record_id -%}
        {%- do deleted_when.append('deleted_self.id is not null') -%}
    {%- endif -%}
    {%- if has_deleted and parent -%}
        {%- do deleted_when.append('deleted_parent.id is not null') -%}
    {%- endif -%}
    {%- if has_reconciliations -%}
        {%- do deleted_when.append('full_read.started_at > versions._sdc_extracted_at') -%}
    {%- endif %}

    select
        {%- for column in all_columns %}
        {% if column in columns %}versions.{{ column }}{% else %}null{% endif %} as {{ column }},
        {%- endfor %}
        cast('{{ schema }}' as {{ string }}) as source_relation,
        {% if deleted_when -%}
        case when {{ deleted_when | join(' or ') }} then true else false end
        {%- else -%}
        false
        {%- endif %} as is_deleted
    from (
        select
            {%- for column in columns %}
            raw_rows.{{ column }},
            {%- endfor %}
            row_number() over (partition by {{ key | join(', ') }} order by {{ order_by | join(', ') }}) as _orderspace_version
        from {{ raw }} as raw_rows
    ) as versions
    {%- if has_deleted and record_id %}
    left join (
        select distinct cast(id as {{ string }}) as id from {{ deleted_records }}
        where stream = '{{ stream }}' and id is not null
    ) as deleted_self
        on cast(versions.{{ record_id }} as {{ string }}) = deleted_self.id
    {%- endif %}
    {%- if has_deleted and parent %}
    left join (
        select distinct cast(id as {{ string }}) as id from {{ deleted_records }}
        where stream = '{{ parent[0] }}' and id is not null
    ) as deleted_parent
        on cast(versions.{{ parent[1] }} as {{ string }}) = deleted_parent.id
    {%- endif %}
    {%- if has_reconciliations %}
    cross join (
        select max(started_at) as started_at from {{ reconciliations }}
        where stream in ('{{ streams | join("', '") }}')
        {%- if 'completed_at' in reconciliation_columns %}
          and completed_at is not null
        {%- endif %}
    ) as full_read
    {%- endif %}
    where versions._orderspace_version = 1
{% endmacro %}


{#- The raw schemas (datasets) to read, one per site. -#}
{% macro orderspace_schemas() %}
    {{ return(var('orderspace_union_schemas', none) or [source('orderspace', 'orders').schema]) }}
{% endmacro %}


{#- `relation` (a source) in another schema of the same database. -#}
{% macro orderspace_relation(relation, schema) %}
    {{ return(api.Relation.create(database=relation.database, schema=schema, identifier=relation.identifier)) }}
{% endmacro %}


{#- Lower-case column names of a relation, or none when it does not exist. -#}
{% macro orderspace_columns(relation) %}
    {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if found is none -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_columns_in_relation(found) | map(attribute='name') | map('lower') | list) }}
{% endmacro %}
