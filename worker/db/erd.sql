-- The live public schema for `orderflow db erd`: tables with their columns, and foreign keys.

-- session_setup --
-- Qualify type names outside pg_catalog (the renderer drops "public.").
set search_path = '';

-- columns --
-- Every column of every public table, in table-name then column order, with its key markers:
-- pk (in the primary key), fk (in a foreign key), uk (in a unique constraint or non-partial unique
-- index that is not merely the primary key plus more columns).
select c.relname::text as table_name,
       a.attname::text as column_name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type,
       a.attnotnull as not_null,
       exists (select from pg_catalog.pg_constraint k
                where k.conrelid = c.oid and k.contype = 'p' and a.attnum = any (k.conkey)) as pk,
       exists (select from pg_catalog.pg_constraint k
                where k.conrelid = c.oid and k.contype = 'f' and a.attnum = any (k.conkey)) as fk,
       exists (select from pg_catalog.pg_index i
                where i.indrelid = c.oid and i.indisunique and not i.indisprimary and i.indpred is null
                  and a.attnum = any (i.indkey::pg_catalog.int2[])
                  and not coalesce((select k.conkey from pg_catalog.pg_constraint k
                                     where k.conrelid = c.oid and k.contype = 'p')
                                   <@ i.indkey::pg_catalog.int2[], false)) as uk
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
 where n.nspname = 'public' and c.relkind in ('r', 'p')
 order by c.relname, a.attnum;

-- relations --
-- Every foreign key of a public table: child, parent (schema-qualified outside public), the FK
-- columns in key order, and whether all of them are not null (a mandatory parent).
select ch.relname::text as child,
       case when pn.nspname = 'public' then pa.relname::text
            else pn.nspname::text || '.' || pa.relname::text end as parent,
       c.conname::text as constraint_name,
       (select pg_catalog.array_agg(a.attname::text order by k.i)
          from unnest(c.conkey) with ordinality as k(att, i)
          join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.att) as columns,
       (select pg_catalog.bool_and(a.attnotnull)
          from unnest(c.conkey) as k(att)
          join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.att) as not_null
  from pg_catalog.pg_constraint c
  join pg_catalog.pg_class ch on ch.oid = c.conrelid
  join pg_catalog.pg_namespace n on n.oid = ch.relnamespace
  join pg_catalog.pg_class pa on pa.oid = c.confrelid
  join pg_catalog.pg_namespace pn on pn.oid = pa.relnamespace
 where c.contype = 'f' and n.nspname = 'public' and c.conparentid = 0
 order by ch.relname, 2, c.conname;
