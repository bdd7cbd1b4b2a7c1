-- Schema audit: one named query per check, each returning the offending objects (no rows = PASS).
-- They run with search_path = '' (see session_setup), so every name comes out schema-qualified
-- and policy expressions deparse with qualified function names. Must run on PostgreSQL 15+.

-- session_setup --
-- Qualify every deparsed name: regclass output, pg_get_expr, pg_policies.qual.
set search_path = '';

-- orphan_rows_function --
-- A session-temporary function: for each foreign key of a public table (validated or NOT VALID),
-- count child rows whose FK columns have no parent row. MATCH SIMPLE skips rows with any null FK
-- column; MATCH FULL also counts rows where only some are null. Partition clones are skipped
-- (the constraint on the partitioned parent covers them); plain inheritance is read with ONLY.
create or replace function pg_temp.orderflow_audit_orphan_rows()
returns table ("table" text, "constraint" text, columns text, parent text, validated boolean, orphan_rows bigint)
language plpgsql
set search_path = ''
as $$
declare
  fk record;
  v_count bigint;
begin
  for fk in
    select c.conname, c.conrelid, c.confrelid, c.convalidated, c.confmatchtype,
           (case when ch.relkind = 'p' then '' else 'only ' end) || c.conrelid::regclass::text as child_from,
           (case when pa.relkind = 'p' then '' else 'only ' end) || c.confrelid::regclass::text as parent_from,
           (select string_agg(format('ch.%I = pa.%I', ca.attname, pa_att.attname), ' and ' order by k.i)
              from unnest(c.conkey, c.confkey) with ordinality as k(child_att, parent_att, i)
              join pg_catalog.pg_attribute ca on ca.attrelid = c.conrelid and ca.attnum = k.child_att
              join pg_catalog.pg_attribute pa_att on pa_att.attrelid = c.confrelid and pa_att.attnum = k.parent_att
           ) as join_cond,
           (select string_agg(format('ch.%I is not null', ca.attname), ' and ' order by k.i)
              from unnest(c.conkey) with ordinality as k(child_att, i)
              join pg_catalog.pg_attribute ca on ca.attrelid = c.conrelid and ca.attnum = k.child_att
           ) as all_set,
           (select string_agg(format('ch.%I is not null', ca.attname), ' or ' order by k.i)
              from unnest(c.conkey) with ordinality as k(child_att, i)
              join pg_catalog.pg_attribute ca on ca.attrelid = c.conrelid and ca.attnum = k.child_att
           ) as any_set,
           (select string_agg(quote_ident(ca.attname), ', ' order by k.i)
              from unnest(c.conkey) with ordinality as k(child_att, i)
              join pg_catalog.pg_attribute ca on ca.attrelid = c.conrelid and ca.attnum = k.child_att
           ) as column_list
      from pg_catalog.pg_constraint c
      join pg_catalog.pg_class ch on ch.oid = c.conrelid
      join pg_catalog.pg_namespace n on n.oid = ch.relnamespace
      join pg_catalog.pg_class pa on pa.oid = c.confrelid
     where c.contype = 'f' and n.nspname = 'public' and c.conparentid = 0
     order by c.conrelid::regclass::text, c.conname
  loop
    execute format(
      'select count(*) from %s ch where (%s and not exists (select from %s pa where %s))%s',
      fk.child_from, fk.all_set, fk.parent_from, fk.join_cond,
      case when fk.confmatchtype = 'f' then format(' or ((%s) and not (%s))', fk.any_set, fk.all_set) else '' end
    ) into v_count;
    if v_count > 0 then
      "table" := fk.conrelid::regclass::text;
      "constraint" := fk.conname;
      columns := fk.column_list;
      parent := fk.confrelid::regclass::text;
      validated := fk.convalidated;
      orphan_rows := v_count;
      return next;
    end if;
  end loop;
end
$$;

-- rls_enabled --
-- Tables in public without row level security.
select c.oid::regclass::text as "table"
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
 order by 1;

-- policies_present --
-- Tables in public without a single policy.
select c.oid::regclass::text as "table", c.relrowsecurity as rls_enabled
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p')
   and not exists (select from pg_catalog.pg_policy p where p.polrelid = c.oid)
 order by 1;

-- tenant_key --
-- Non-global public tables whose distributor_id is missing, not uuid, nullable or not a FK to distributors(id).
with tables as (
  select c.oid, c.oid::regclass::text as name
    from pg_catalog.pg_class c
    join pg_catalog.pg_namespace n on n.oid = c.relnamespace
   where n.nspname = 'public' and c.relkind in ('r', 'p')
     and coalesce(pg_catalog.obj_description(c.oid, 'pg_class'), '') not like 'global:%'
), keyed as (
  select t.name, a.attnum, a.atttypid, a.attnotnull,
         exists (
           select from pg_catalog.pg_constraint f
            where f.contype = 'f' and f.conrelid = t.oid and f.conkey = array[a.attnum]
              and f.confrelid = pg_catalog.to_regclass('public.distributors')
              and f.confkey = array[(select d.attnum from pg_catalog.pg_attribute d
                                      where d.attrelid = f.confrelid and d.attname = 'id')]
         ) as references_distributors
    from tables t
    left join pg_catalog.pg_attribute a on a.attrelid = t.oid and a.attname = 'distributor_id' and not a.attisdropped
)
select name as "table",
       case when attnum is null then 'no distributor_id column'
            when atttypid <> 'pg_catalog.uuid'::pg_catalog.regtype then 'distributor_id is not uuid'
            when not attnotnull then 'distributor_id is nullable'
            else 'distributor_id has no foreign key to public.distributors (id)' end as problem
  from keyed
 where attnum is null or atttypid <> 'pg_catalog.uuid'::pg_catalog.regtype or not attnotnull or not references_distributors
 order by 1;

-- tenant_key_indexed --
-- Tenant tables (with a distributor_id column) with no valid, non-partial index led by distributor_id.
select c.oid::regclass::text as "table"
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attname = 'distributor_id' and not a.attisdropped
 where n.nspname = 'public' and c.relkind in ('r', 'p')
   and not exists (
     select from pg_catalog.pg_index i
      where i.indrelid = c.oid and i.indisvalid and i.indpred is null and i.indkey[0] = a.attnum
   )
 order by 1;

-- fk_indexed --
-- Foreign keys of public tables whose columns are not the leading columns (in any order) of a
-- valid index. A partial index counts only when its predicate is just "<fk column> IS NOT NULL" terms.
select c.conrelid::regclass::text as "table", c.conname as "constraint",
       (select string_agg(quote_ident(a.attname), ', ' order by k.i)
          from unnest(c.conkey) with ordinality as k(att, i)
          join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.att) as columns,
       c.confrelid::regclass::text as parent
  from pg_catalog.pg_constraint c
  join pg_catalog.pg_class t on t.oid = c.conrelid
  join pg_catalog.pg_namespace n on n.oid = t.relnamespace
 where c.contype = 'f' and n.nspname = 'public' and c.conparentid = 0
   and not exists (
     select from pg_catalog.pg_index i
      where i.indrelid = c.conrelid and i.indisvalid
        and i.indnkeyatts >= cardinality(c.conkey)
        and (select array_agg(k order by k) from unnest((i.indkey::pg_catalog.int2[])[0:cardinality(c.conkey) - 1]) k)
          = (select array_agg(k order by k) from unnest(c.conkey) k)
        and (i.indpred is null or not exists (
              select from pg_catalog.regexp_split_to_table(
                       pg_catalog.regexp_replace(pg_catalog.pg_get_expr(i.indpred, i.indrelid), '[()]', '', 'g'),
                       ' AND ') as clause
               where clause not in (select pg_catalog.quote_ident(a.attname) || ' IS NOT NULL'
                                      from pg_catalog.pg_attribute a
                                     where a.attrelid = c.conrelid and a.attnum = any (c.conkey))))
   )
 order by 1, 2;

-- id_without_fk --
-- Columns of public tables named *_id that are in no foreign key and not marked @external.
select c.oid::regclass::text as "table", a.attname as "column",
       pg_catalog.format_type(a.atttypid, a.atttypmod) as type
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
 where n.nspname = 'public' and c.relkind in ('r', 'p')
   and a.attname like '%\_id'
   and not exists (
     select from pg_catalog.pg_constraint f
      where f.contype = 'f' and f.conrelid = c.oid and a.attnum = any (f.conkey)
   )
   and coalesce(pg_catalog.col_description(c.oid, a.attnum), '') not like '%@external%'
 order by 1, 2;

-- tenant_reference_not_composite --
-- Foreign keys from a public tenant table to another tenant table that do not pair
-- distributor_id with distributor_id (a row could point into another tenant).
select c.conrelid::regclass::text as "table", c.conname as "constraint",
       (select string_agg(quote_ident(a.attname), ', ' order by k.i)
          from unnest(c.conkey) with ordinality as k(att, i)
          join pg_catalog.pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.att) as columns,
       c.confrelid::regclass::text as parent
  from pg_catalog.pg_constraint c
  join pg_catalog.pg_class t on t.oid = c.conrelid
  join pg_catalog.pg_namespace n on n.oid = t.relnamespace
  join pg_catalog.pg_attribute child_key
    on child_key.attrelid = c.conrelid and child_key.attname = 'distributor_id' and not child_key.attisdropped
  join pg_catalog.pg_attribute parent_key
    on parent_key.attrelid = c.confrelid and parent_key.attname = 'distributor_id' and not parent_key.attisdropped
 where c.contype = 'f' and n.nspname = 'public' and c.conparentid = 0
   and not exists (
     select from unnest(c.conkey, c.confkey) as k(child_att, parent_att)
      where k.child_att = child_key.attnum and k.parent_att = parent_key.attnum
   )
 order by 1, 2;

-- policy_initplan --
-- Policies on public tables calling auth.uid(), auth.jwt(), auth.role(), get_current_distributor_id(),
-- private.current_role_rank() or current_setting() more often than inside "(select f())".
with calls as (
  select p.tablename, p.policyname, expr.kind, expr.text,
         '(auth\.(uid|jwt|role)|public\.get_current_distributor_id|private\.current_role_rank)\(\)|current_setting\('
           as pattern
    from pg_catalog.pg_policies p
   cross join lateral (values ('using', p.qual), ('with check', p.with_check)) as expr(kind, text)
   where p.schemaname = 'public' and expr.text is not null
), counted as (
  select tablename, policyname, kind,
         pg_catalog.regexp_count(text, pattern) as calls,
         pg_catalog.regexp_count(text, '\mSELECT\s+(' || pattern || ')', 1, 'i') as wrapped
    from calls
)
select 'public.' || pg_catalog.quote_ident(tablename) as "table", policyname as policy, kind, calls, wrapped
  from counted
 where calls > wrapped
 order by 1, 2, 3;

-- security_definer_search_path --
-- SECURITY DEFINER functions with no search_path set in proconfig, in every schema but the system
-- ones and those Supabase manages (its list in splinter 0011); functions owned by an extension skipped.
select p.oid::regprocedure::text as function, pg_catalog.pg_get_userbyid(p.proowner)::text as owner
  from pg_catalog.pg_proc p
  join pg_catalog.pg_namespace n on n.oid = p.pronamespace
 where p.prosecdef
   and n.nspname not in ('pg_catalog', 'information_schema', 'extensions', 'auth', 'cron', 'graphql', 'graphql_public',
                         'net', 'pgbouncer', 'pgsodium', 'pgsodium_masks', 'pgtle', 'realtime', 'repack', 'storage',
                         'supabase_functions', 'supabase_migrations', 'vault')
   and n.nspname not like 'pg\_toast%' and n.nspname not like 'pg\_temp\_%'
   and not exists (select from pg_catalog.pg_depend d
                    where d.classid = 'pg_catalog.pg_proc'::pg_catalog.regclass and d.objid = p.oid and d.deptype = 'e')
   and not exists (select from unnest(p.proconfig) as cfg where cfg like 'search\_path=%')
 order by 1;

-- orphan_rows --
-- Foreign keys of public tables (NOT VALID ones too) with child rows that have no parent row.
select * from pg_temp.orderflow_audit_orphan_rows() order by 1, 2;

-- secrets_not_readable --
-- Columns commented "secret: ..." that anon or authenticated may SELECT (directly, via PUBLIC or a role).
select c.oid::regclass::text as "table", a.attname as "column", r.rolname::text as role
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  cross join pg_catalog.pg_roles r
 where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
   and r.rolname in ('anon', 'authenticated')
   and pg_catalog.col_description(c.oid, a.attnum) like 'secret:%'
   and pg_catalog.has_column_privilege(r.oid, c.oid, a.attnum, 'SELECT')
 order by 1, 2, 3;

-- anon_has_no_policies --
-- Policies on public tables granted to PUBLIC, to anon, or to a role anon is a member of.
select p.polrelid::regclass::text as "table", p.polname::text as policy,
       (select string_agg(case when r = 0 then 'public' else pg_catalog.pg_get_userbyid(r)::text end, ', ' order by r)
          from unnest(p.polroles) r) as roles
  from pg_catalog.pg_policy p
  join pg_catalog.pg_class c on c.oid = p.polrelid
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public'
   and exists (
     select from unnest(p.polroles) r
      where r = 0
         or exists (select from pg_catalog.pg_roles anon
                     where anon.rolname = 'anon' and pg_catalog.pg_has_role(anon.oid, r, 'MEMBER'))
   )
 order by 1, 2;

-- client_table_privileges --
-- TRUNCATE, TRIGGER, REFERENCES (and MAINTAIN on PostgreSQL 17+) that anon or authenticated hold on a
-- public table, directly or through PUBLIC, or would get on future tables through default privileges
-- in schema public. RLS guards none of them.
with privileges as (
  select p from unnest(array['TRUNCATE', 'TRIGGER', 'REFERENCES']
                       || case when pg_catalog.current_setting('server_version_num')::integer >= 170000
                               then array['MAINTAIN'] else '{}'::text[] end) p
)
select c.oid::regclass::text as "table", r.rolname::text as role, pr.p as privilege
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  cross join pg_catalog.pg_roles r
  cross join privileges pr
 where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm', 'f')
   and r.rolname in ('anon', 'authenticated')
   and pg_catalog.has_table_privilege(r.oid, c.oid, pr.p)
union all
select '(default privileges of ' || pg_catalog.pg_get_userbyid(d.defaclrole) || ' in '
         || coalesce(n.nspname, 'every schema') || ')', pg_catalog.pg_get_userbyid(a.grantee)::text, a.privilege_type
  from pg_catalog.pg_default_acl d
  left join pg_catalog.pg_namespace n on n.oid = d.defaclnamespace
  cross join lateral pg_catalog.aclexplode(d.defaclacl) a
 where d.defaclobjtype = 'r' and (n.nspname = 'public' or d.defaclnamespace = 0)
   and (a.grantee = 0 or a.grantee in (select oid from pg_catalog.pg_roles where rolname in ('anon', 'authenticated')))
   and a.privilege_type in (select p from privileges)
 order by 1, 2, 3;

-- server_columns_writable --
-- Server columns (created_at, updated_at, used_at, used_by, occurred_at) of public tables that anon or
-- authenticated may INSERT or UPDATE under some policy, without the keep_server_columns trigger
-- resetting them (it covers created_at and updated_at only).
select c.oid::regclass::text as "table", a.attname::text as "column", r.rolname::text as role, cmd.priv as privilege
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
  join pg_catalog.pg_attribute a on a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped
  cross join pg_catalog.pg_roles r
  cross join (values ('INSERT', 'a'), ('UPDATE', 'w')) as cmd(priv, polcmd)
 where n.nspname = 'public' and c.relkind in ('r', 'p')
   and a.attname in ('created_at', 'updated_at', 'used_at', 'used_by', 'occurred_at')
   and r.rolname in ('anon', 'authenticated')
   and pg_catalog.has_column_privilege(r.oid, c.oid, a.attnum, cmd.priv)
   and (not c.relrowsecurity or exists (
         select from pg_catalog.pg_policy p
          where p.polrelid = c.oid and p.polpermissive and p.polcmd in (cmd.polcmd, '*')
            and exists (select from unnest(p.polroles) pr where pr = 0 or pg_catalog.pg_has_role(r.oid, pr, 'MEMBER'))))
   and not (a.attname in ('created_at', 'updated_at') and exists (
         select from pg_catalog.pg_trigger t
          join pg_catalog.pg_proc f on f.oid = t.tgfoid
          join pg_catalog.pg_namespace fn on fn.oid = f.pronamespace
         where t.tgrelid = c.oid and t.tgenabled <> 'D' and fn.nspname = 'private' and f.proname = 'keep_server_columns'))
 order by 1, 2, 3, 4;
