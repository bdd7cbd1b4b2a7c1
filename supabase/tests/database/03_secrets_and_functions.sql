-- Secrets never leave the database through the API roles, and the functions those roles may run
-- cannot be pointed at another tenant.
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
grant execute on all functions in schema extensions to anon, authenticated, service_role;  -- pgTAP as those roles
select plan(8);

-- Every column commented "secret: ..." is unreadable to anon and authenticated.
select is(
  (select string_agg(format('%s.%s', c.relname, a.attname), ', ' order by c.relname, a.attname)
     from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
      and col_description(c.oid, a.attnum) like 'secret:%'
      and (has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT')
           or has_column_privilege('anon', c.oid, a.attnum, 'SELECT'))),
  null, 'no secret column is readable by the API roles');
select cmp_ok(
  (select count(*) from pg_attribute a join pg_class c on c.oid = a.attrelid
    where c.relnamespace = 'public'::regnamespace and col_description(c.oid, a.attnum) like 'secret:%'),
  '>=', 3::bigint, 'the secret columns keep their "secret:" comments');

-- An admin of the distributor that owns the endpoint still cannot read its signing secret.
insert into auth.users (id, email) values ('1a000000-0000-4000-8000-00000000000a', 'admin-a@example.invalid');
insert into public.distributors (id, slug, name) values ('0a000000-0000-4000-8000-00000000000a', 'tenant-a', 'Tenant A');
insert into public.user_profiles (id, distributor_id, email, role) values
  ('1a000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-00000000000a', 'admin-a@example.invalid', 'admin');
insert into public.webhook_endpoints (distributor_id, url, secret) values
  ('0a000000-0000-4000-8000-00000000000a', 'https://example.invalid/hook', 'whsec_b3JkZXJmbG93LXRlc3Qtc2lnbmluZy1zZWNyZXQtMzI=');

set local role authenticated;
set local request.jwt.claims = '{"sub": "1a000000-0000-4000-8000-00000000000a", "role": "authenticated", "email": "admin-a@example.invalid"}';

select is((select count(*) from public.webhook_endpoints), 1::bigint, 'A''s admin sees A''s endpoint');
select throws_ok('select secret from public.webhook_endpoints', '42501', null,
                 'an admin cannot read webhook_endpoints.secret');
select throws_ok('select app_secret from public.external_integrations', '42501', null,
                 'an admin cannot read external_integrations.app_secret');
select throws_ok('select wrapped_key from public.encryption_keys', '42501', null,
                 'an admin cannot read encryption_keys.wrapped_key');

reset role;

-- A function the API roles may run either runs with the caller's rights (so RLS applies), or, if
-- it is SECURITY DEFINER, acts for the caller only (it reads auth.uid()).
select is(
  (select string_agg(p.oid::regprocedure::text, ', ')
     from pg_proc p
    where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prosecdef
      and (has_function_privilege('authenticated', p.oid, 'EXECUTE') or has_function_privilege('anon', p.oid, 'EXECUTE'))
      and p.prosrc not like '%auth.uid()%'),
  null, 'every SECURITY DEFINER function the API roles may call acts for the caller only');

-- A function that takes the distributor as an argument lets the caller choose the tenant: service only.
select is(
  (select string_agg(p.oid::regprocedure::text, ', ')
     from pg_proc p
    where p.pronamespace = 'public'::regnamespace and 'p_distributor_id' = any (p.proargnames)
      and (has_function_privilege('authenticated', p.oid, 'EXECUTE') or has_function_privilege('anon', p.oid, 'EXECUTE'))),
  null, 'no function taking p_distributor_id is callable by the API roles');

select * from finish();
rollback;
