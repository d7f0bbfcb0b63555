{#-
  The current rows of one raw table, for its staging model: the latest version of each key,
  without the records the source deleted. Every staging model selects from this and nothing else.

    stream      raw table (tap stream) name
    key         columns that identify a row; the latest by _sdc_extracted_at, then _sdc_batched_at, wins
    record_id   column that deleted_records.id names for this stream (none: the stream has no id of its own)
    parent      for a child table: (parent stream, column holding the parent's id)

  A row is deleted when any of these says so:
    - the loader marked it: _sdc_deleted_at is set (loaders that apply ACTIVATE_VERSION);
    - deleted_records holds (stream, its id), or (parent stream, its parent's id) for a child row;
    - reconciliations: its _sdc_extracted_at is older than the start of the latest completed full
      read of its stream (or of its parent's, which re-reads every child row), so that read did not see it.
  The change-capture tables and the _sdc_* columns are optional: a missing table counts as empty, a
  missing column as null, so these models build on whatever the loader has landed so far.
-#}
{% macro orderspace_live_rows(stream, key=['id'], record_id='id', parent=none) %}
    {%- set raw = source('orderspace', stream) -%}
    {%- set deleted_records = source('orderspace', 'deleted_records') -%}
    {%- set reconciliations = source('orderspace', 'reconciliations') -%}
    {%- if not execute -%}
        {{ return('select * from ' ~ raw) }}
    {%- endif -%}

    {%- set columns = orderspace_columns(raw) or [] -%}
    {%- set deleted_columns = orderspace_columns(deleted_records) or [] -%}
    {%- set reconciliation_columns = orderspace_columns(reconciliations) or [] -%}
    {%- set has_deleted = 'stream' in deleted_columns and 'id' in deleted_columns -%}
    {%- set has_reconciliations = 'stream' in reconciliation_columns and 'started_at' in reconciliation_columns
        and '_sdc_extracted_at' in columns -%}
    {%- set streams = [stream] + ([parent[0]] if parent else []) -%}

    {%- set order_by = [] -%}
    {%- for column in ['_sdc_extracted_at', '_sdc_batched_at'] if column in columns -%}
        {%- do order_by.append(column ~ ' desc nulls last') -%}
    {%- endfor -%}
    {%- if not order_by -%}{%- do order_by.extend(key) -%}{%- endif %}

    select *
    from (
        select
            raw_rows.*,
            row_number() over (partition by {{ key | join(', ') }} order by {{ order_by | join(', ') }}) as _orderspace_version
        from {{ raw }} as raw_rows
    ) as versions
    where _orderspace_version = 1
    {%- if '_sdc_deleted_at' in columns %}
        and _sdc_deleted_at is null
    {%- endif %}
    {%- if has_deleted and record_id %}
        and cast({{ record_id }} as {{ dbt.type_string() }}) not in (
            select cast(id as {{ dbt.type_string() }}) from {{ deleted_records }}
            where stream = '{{ stream }}' and id is not null
        )
    {%- endif %}
    {%- if has_deleted and parent %}
        and cast({{ parent[1] }} as {{ dbt.type_string() }}) not in (
            select cast(id as {{ dbt.type_string() }}) from {{ deleted_records }}
            where stream = '{{ parent[0] }}' and id is not null
        )
    {%- endif %}
    {%- if has_reconciliations %}
        and not exists (
            select 1 from {{ reconciliations }} as full_reads
            where full_reads.stream in ('{{ streams | join("', '") }}')
              and full_reads.started_at > versions._sdc_extracted_at
              {%- if 'completed_at' in reconciliation_columns %}
              and full_reads.completed_at is not null
              {%- endif %}
        )
    {%- endif %}
{% endmacro %}


{#- Lower-case column names of a relation, or none when it does not exist. -#}
{% macro orderspace_columns(relation) %}
    {%- set found = adapter.get_relation(database=relation.database, schema=relation.schema, identifier=relation.identifier) -%}
    {%- if found is none -%}{{ return(none) }}{%- endif -%}
    {{ return(adapter.get_columns_in_relation(found) | map(attribute='name') | map('lower') | list) }}
{% endmacro %}
