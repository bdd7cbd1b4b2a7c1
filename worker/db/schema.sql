-- The live schema for `orderflow db schema`: tables (columns, keys, policies) and functions of the
-- project's schemas (public, private), extension members left out. Every list comes out sorted.

-- session_setup --
-- Qualify every deparsed name outside pg_catalog.
set search_path = '';

-- tables --
-- Every table with its row-level-security flags and comment
select n.nspname as schema, c.relname as name, c.relrowsecurity as rls, c.relforcerowsecurity as rls_forced,
       coalesce(obj_description(c.oid, 'pg_class'), '') as comment
  from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where c.relkind in ('r', 'p') and n.nspname in ('public', 'private')
   and not exists (select 1 from pg_catalog.pg_depend d where d.objid = c.oid and d.deptype = 'e')
 order by 1, 2;

-- columns --
-- Every column: type, nullability, default and comment, in column order
select n.nspname as schema, c.relname as table_name, a.attname as name,
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type, a.attnotnull as not_null,
       coalesce(pg_catalog.pg_get_expr(ad.adbin, ad.adrelid), '') as default_value,
       case a.attgenerated when 's' then 'generated' else '' end as generated,
       coalesce(col_description(c.oid, a.attnum), '') as comment
  from pg_catalog.pg_attribute a
  join pg_catalog.pg_class c on c.oid = a.attrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  left join pg_catalog.pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
 where c.relkind in ('r', 'p') and n.nspname in ('public', 'private') and a.attnum > 0 and not a.attisdropped
 order by 1, 2, a.attnum;

-- keys --
-- Primary keys, unique constraints, foreign keys, checks and exclusions, by table and name
select n.nspname as schema, c.relname as table_name, k.conname as name,
       case k.contype when 'p' then 'primary key' when 'u' then 'unique' when 'f' then 'foreign key'
                      when 'c' then 'check' when 'x' then 'exclusion' else k.contype::text end as kind,
       pg_catalog.pg_get_constraintdef(k.oid, true) as definition
  from pg_catalog.pg_constraint k
  join pg_catalog.pg_class c on c.oid = k.conrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname in ('public', 'private') and k.contype in ('p', 'u', 'f', 'c', 'x')
 order by 1, 2, case k.contype when 'p' then 0 when 'u' then 1 when 'f' then 2 when 'x' then 3 else 4 end, 3;

-- policies --
-- Every row-level-security policy: command, roles, USING and WITH CHECK
select p.schemaname as schema, p.tablename as table_name, p.policyname as name, p.cmd as command,
       p.permissive as permissive, array_to_string(p.roles, ', ') as roles,
       coalesce(p.qual, '') as using_expr, coalesce(p.with_check, '') as check_expr
  from pg_catalog.pg_policies p
 where p.schemaname in ('public', 'private')
 order by 1, 2, 3;

-- functions --
-- Every function and procedure: signature, result, security, and who may execute it
select n.nspname as schema, p.proname as name,
       pg_catalog.pg_get_function_identity_arguments(p.oid) as arguments,
       coalesce(pg_catalog.pg_get_function_result(p.oid), '') as result,
       case when p.prosecdef then 'definer' else 'invoker' end as security,
       case when p.proacl is null then 'PUBLIC (default)'
            else coalesce((select string_agg(case when g.grantee = 0 then 'PUBLIC' else g.grantee::regrole::text end,
                                             ', ' order by case when g.grantee = 0 then 'PUBLIC'
                                                                else g.grantee::regrole::text end)
                             from aclexplode(p.proacl) g
                            where g.privilege_type = 'EXECUTE' and g.grantee <> p.proowner), '') end as grants,
       coalesce(obj_description(p.oid, 'pg_proc'), '') as comment
  from pg_catalog.pg_proc p join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where n.nspname in ('public', 'private')
   and not exists (select 1 from pg_catalog.pg_depend d where d.objid = p.oid and d.deptype = 'e')
 order by 1, 2, 3;
