-- Secrets never leave the database through the API roles, and the functions those roles may run
-- cannot be pointed at another tenant.
begin;

-- Every column commented "secret: ..." is unreadable to anon and authenticated.
do $$
declare
  v_columns text;
begin
  select string_agg(format('%s.%s', c.relname, a.attname), ', ' order by c.relname, a.attname) into v_columns
    from pg_attribute a join pg_class c on c.oid = a.attrelid
   where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and a.attnum > 0 and not a.attisdropped
     and col_description(c.oid, a.attnum) like 'secret:%'
     and (has_column_privilege('authenticated', c.oid, a.attnum, 'SELECT')
          or has_column_privilege('anon', c.oid, a.attnum, 'SELECT'));
  assert v_columns is null, format('secret columns readable by the API roles: %s', v_columns);
  assert (select count(*) from pg_attribute a join pg_class c on c.oid = a.attrelid
           where c.relnamespace = 'public'::regnamespace and col_description(c.oid, a.attnum) like 'secret:%') >= 3,
    'the secret columns lost their "secret:" comments';
end
$$;

-- An admin of the distributor that owns the endpoint still cannot read its signing secret.
insert into auth.users (id, email) values ('1a000000-0000-4000-8000-00000000000a', 'admin-a@example.invalid');
insert into public.distributors (id, slug, name) values ('0a000000-0000-4000-8000-00000000000a', 'tenant-a', 'Tenant A');
insert into public.user_profiles (id, distributor_id, email, role) values
  ('1a000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-00000000000a', 'admin-a@example.invalid', 'admin');
insert into public.webhook_endpoints (distributor_id, url, secret) values
  ('0a000000-0000-4000-8000-00000000000a', 'https://example.invalid/hook', 'whsec_b3JkZXJmbG93LXRlc3Qtc2lnbmluZy1zZWNyZXQtMzI=');

set local role authenticated;
set local request.jwt.claims = '{"sub": "1a000000-0000-4000-8000-00000000000a", "role": "authenticated", "email": "admin-a@example.invalid"}';

do $$
begin
  assert (select count(*) from public.webhook_endpoints) = 1, 'A''s admin sees A''s endpoint';
  begin
    perform secret from public.webhook_endpoints;
    raise exception 'an admin read webhook_endpoints.secret';
  exception when insufficient_privilege then
    null;
  end;
  begin
    perform app_secret from public.external_integrations;
    raise exception 'an admin read external_integrations.app_secret';
  exception when insufficient_privilege then
    null;
  end;
  begin
    perform wrapped_key from public.encryption_keys;
    raise exception 'an admin read encryption_keys.wrapped_key';
  exception when insufficient_privilege then
    null;
  end;
end
$$;

reset role;

-- A function the API roles may run either runs with the caller's rights (so RLS applies), or, if
-- it is SECURITY DEFINER, acts for the caller only (it reads auth.uid()).
do $$
declare
  v_functions text;
begin
  select string_agg(p.oid::regprocedure::text, ', ') into v_functions
    from pg_proc p
   where p.pronamespace in ('public'::regnamespace, 'private'::regnamespace) and p.prosecdef
     and (has_function_privilege('authenticated', p.oid, 'EXECUTE') or has_function_privilege('anon', p.oid, 'EXECUTE'))
     and p.prosrc not like '%auth.uid()%';
  assert v_functions is null, format('SECURITY DEFINER functions the API roles may call for any tenant: %s', v_functions);
end
$$;

-- A function that takes the distributor as an argument lets the caller choose the tenant: service only.
do $$
declare
  v_functions text;
begin
  select string_agg(p.oid::regprocedure::text, ', ') into v_functions
    from pg_proc p
   where p.pronamespace = 'public'::regnamespace and 'p_distributor_id' = any (p.proargnames)
     and (has_function_privilege('authenticated', p.oid, 'EXECUTE') or has_function_privilege('anon', p.oid, 'EXECUTE'));
  assert v_functions is null, format('functions taking p_distributor_id callable by the API roles: %s', v_functions);
end
$$;

rollback;
