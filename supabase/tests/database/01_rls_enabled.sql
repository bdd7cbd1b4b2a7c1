-- The shape of tenancy, read from the catalog (basejump's tests.rls_enabled): every public table has
-- row level security on, is a tenant table (distributor_id) or says it is global in its comment, and
-- every policy of a tenant table is for authenticated and compares distributor_id with the caller's
-- distributor. pgTAP, as `supabase test db` runs it (locally: pg_prove, see tests/integration/test_migrations.py).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
select plan(4);

select is(
  (select string_agg(c.relname, ', ' order by c.relname)
     from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity),
  null, 'row level security is on for every public table');

select is(
  (select string_agg(c.relname, ', ' order by c.relname)
     from pg_class c
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
      and not exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'distributor_id' and not a.attisdropped)
      and coalesce(obj_description(c.oid, 'pg_class'), '') not like 'global:%'),
  null, 'every public table has distributor_id or a "global:" comment');

select is(
  (select string_agg(format('%s: %s', p.tablename, p.policyname), '; ' order by p.tablename, p.policyname)
     from pg_policies p
     join pg_attribute a on a.attrelid = format('public.%I', p.tablename)::regclass and a.attname = 'distributor_id'
    where p.schemaname = 'public'
      and (p.roles <> '{authenticated}'::name[]
           or coalesce(p.qual, '') || coalesce(p.with_check, '') = ''
           or (p.qual is not null and p.qual not like '%distributor_id = ( SELECT get_current_distributor_id()%')
           or (p.with_check is not null and p.with_check not like '%distributor_id = ( SELECT get_current_distributor_id()%'))),
  null, 'every tenant policy is for authenticated and scoped to the caller''s distributor');

select is(
  (select string_agg(c.relname, ', ' order by c.relname)
     from pg_class c
     join pg_attribute a on a.attrelid = c.oid and a.attname = 'distributor_id' and not a.attisdropped
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
      and not exists (select from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname
                                                  and p.cmd in ('SELECT', 'ALL'))),
  null, 'every tenant table has a policy to read it');

select * from finish();
rollback;
