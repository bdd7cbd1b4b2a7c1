-- The shape of tenancy, read from the catalog (basejump's tests.rls_enabled, without pgTAP):
-- every public table has row level security on, is a tenant table (distributor_id) or says it is
-- global in its comment, and every policy of a tenant table is for authenticated and compares
-- distributor_id with the caller's distributor.
begin;

do $$
declare
  v_tables text;
begin
  select string_agg(c.relname, ', ' order by c.relname) into v_tables
    from pg_class c
   where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relrowsecurity;
  assert v_tables is null, format('row level security is off on: %s', v_tables);
end
$$;

do $$
declare
  v_tables text;
begin
  select string_agg(c.relname, ', ' order by c.relname) into v_tables
    from pg_class c
   where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
     and not exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'distributor_id' and not a.attisdropped)
     and coalesce(obj_description(c.oid, 'pg_class'), '') not like 'global:%';
  assert v_tables is null, format('neither distributor_id nor a "global:" comment: %s', v_tables);
end
$$;

do $$
declare
  v_policies text;
begin
  select string_agg(format('%s: %s', p.tablename, p.policyname), '; ' order by p.tablename, p.policyname) into v_policies
    from pg_policies p
    join pg_attribute a on a.attrelid = format('public.%I', p.tablename)::regclass and a.attname = 'distributor_id'
   where p.schemaname = 'public'
     and (p.roles <> '{authenticated}'::name[]
          or coalesce(p.qual, '') || coalesce(p.with_check, '') = ''
          or (p.qual is not null and p.qual not like '%distributor_id = ( SELECT get_current_distributor_id()%')
          or (p.with_check is not null and p.with_check not like '%distributor_id = ( SELECT get_current_distributor_id()%'));
  assert v_policies is null, format('tenant policies not scoped to the caller''s distributor: %s', v_policies);
end
$$;

do $$
declare
  v_tables text;
begin
  select string_agg(c.relname, ', ' order by c.relname) into v_tables
    from pg_class c
    join pg_attribute a on a.attrelid = c.oid and a.attname = 'distributor_id' and not a.attisdropped
   where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p')
     and not exists (select from pg_policies p where p.schemaname = 'public' and p.tablename = c.relname
                                                 and p.cmd in ('SELECT', 'ALL'));
  assert v_tables is null, format('tenant tables nobody can read: %s', v_tables);
end
$$;

rollback;
