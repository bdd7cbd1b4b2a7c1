-- Two distributors side by side: each user sees and changes only their own distributor's rows,
-- writes into the other one hit row-level security, a signed-in user without a profile and anon
-- see nothing, and the service role sees both (basejump 02-personal-accounts.sql, without pgTAP).
begin;

insert into auth.users (id, email) values
  ('1a000000-0000-4000-8000-00000000000a', 'admin-a@example.invalid'),
  ('2a000000-0000-4000-8000-00000000000a', 'viewer-a@example.invalid'),
  ('1b000000-0000-4000-8000-00000000000b', 'admin-b@example.invalid'),
  ('3c000000-0000-4000-8000-00000000000c', 'nobody@example.invalid');
insert into public.distributors (id, slug, name) values
  ('0a000000-0000-4000-8000-00000000000a', 'tenant-a', 'Tenant A'),
  ('0b000000-0000-4000-8000-00000000000b', 'tenant-b', 'Tenant B');
insert into public.user_profiles (id, distributor_id, email, role) values
  ('1a000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-00000000000a', 'admin-a@example.invalid', 'admin'),
  ('2a000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-00000000000a', 'viewer-a@example.invalid', 'viewer'),
  ('1b000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-00000000000b', 'admin-b@example.invalid', 'admin');
insert into public.customers (id, distributor_id, name) values
  ('ca000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-00000000000a', 'Shop of A'),
  ('cb000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-00000000000b', 'Shop of B');
insert into public.orders (id, distributor_id, customer_id, currency) values
  ('da000000-0000-4000-8000-00000000000a', '0a000000-0000-4000-8000-00000000000a', 'ca000000-0000-4000-8000-00000000000a', 'MXN'),
  ('db000000-0000-4000-8000-00000000000b', '0b000000-0000-4000-8000-00000000000b', 'cb000000-0000-4000-8000-00000000000b', 'USD');

-- A's admin.
set local role authenticated;
set local request.jwt.claims = '{"sub": "1a000000-0000-4000-8000-00000000000a", "role": "authenticated", "email": "admin-a@example.invalid"}';

do $$
declare
  n integer;
begin
  assert (select array_agg(id) from public.orders) = '{da000000-0000-4000-8000-00000000000a}'::uuid[],
    'A''s admin sees exactly A''s order';
  assert (select array_agg(id) from public.distributors) = '{0a000000-0000-4000-8000-00000000000a}'::uuid[],
    'A''s admin sees only distributor A';
  assert not exists (select from public.customers where distributor_id = '0b000000-0000-4000-8000-00000000000b'),
    'A''s admin sees no customer of B';
  assert (select count(*) from public.user_profiles) = 2, 'A''s admin sees A''s two users only';

  update public.orders set notes = 'hijacked' where id = 'db000000-0000-4000-8000-00000000000b';
  get diagnostics n = row_count;
  assert n = 0, 'A''s admin updated B''s order';
  delete from public.customers where distributor_id = '0b000000-0000-4000-8000-00000000000b';
  get diagnostics n = row_count;
  assert n = 0, 'A''s admin deleted B''s customers';
  update public.distributors set name = 'hijacked' where id = '0b000000-0000-4000-8000-00000000000b';
  get diagnostics n = row_count;
  assert n = 0, 'A''s admin renamed distributor B';

  begin
    insert into public.customers (distributor_id, name) values ('0b000000-0000-4000-8000-00000000000b', 'Planted');
    raise exception 'A''s admin inserted a customer into B';
  exception when insufficient_privilege then
    assert sqlerrm like '%violates row-level security%', sqlerrm;
  end;
  begin
    update public.orders set distributor_id = '0b000000-0000-4000-8000-00000000000b'
     where id = 'da000000-0000-4000-8000-00000000000a';
    raise exception 'A''s admin moved an order to B';
  exception when insufficient_privilege then
    assert sqlerrm like '%violates row-level security%', sqlerrm;
  end;
  begin
    update public.user_profiles set distributor_id = '0b000000-0000-4000-8000-00000000000b'
     where id = '1a000000-0000-4000-8000-00000000000a';
    raise exception 'A''s admin moved themself to B';
  exception when insufficient_privilege then  -- distributor_id of profiles is not even granted (issue 14)
    assert sqlerrm like '%violates row-level security%' or sqlerrm like 'permission denied for table%', sqlerrm;
  end;

  update public.orders set notes = 'checked' where id = 'da000000-0000-4000-8000-00000000000a';
  get diagnostics n = row_count;
  assert n = 1, 'A''s admin cannot update A''s own order';
end
$$;

-- A's viewer reads but cannot write.
set local request.jwt.claims = '{"sub": "2a000000-0000-4000-8000-00000000000a", "role": "authenticated", "email": "viewer-a@example.invalid"}';

do $$
declare
  n integer;
begin
  assert (select count(*) from public.orders) = 1, 'A''s viewer reads A''s order';
  update public.orders set notes = 'viewer was here';
  get diagnostics n = row_count;
  assert n = 0, 'A''s viewer updated an order';
  begin
    insert into public.customers (distributor_id, name) values ('0a000000-0000-4000-8000-00000000000a', 'By a viewer');
    raise exception 'A''s viewer inserted a customer';
  exception when insufficient_privilege then
    assert sqlerrm like '%violates row-level security%', sqlerrm;
  end;
end
$$;

-- A deactivated user of A sees nothing any more.
reset role;
update public.user_profiles set active = false where id = '2a000000-0000-4000-8000-00000000000a';
set local role authenticated;

do $$
begin
  assert (select count(*) from public.orders) = 0, 'a deactivated user still reads orders';
  assert (select count(*) from public.distributors) = 0, 'a deactivated user still sees the distributor';
end
$$;

-- B's admin sees only B.
set local request.jwt.claims = '{"sub": "1b000000-0000-4000-8000-00000000000b", "role": "authenticated", "email": "admin-b@example.invalid"}';

do $$
begin
  assert (select array_agg(id) from public.orders) = '{db000000-0000-4000-8000-00000000000b}'::uuid[],
    'B''s admin sees exactly B''s order';
  assert not exists (select from public.customers where distributor_id = '0a000000-0000-4000-8000-00000000000a'),
    'B''s admin sees a customer of A';
end
$$;

-- Signed in, but no profile (never invited): nothing.
set local request.jwt.claims = '{"sub": "3c000000-0000-4000-8000-00000000000c", "role": "authenticated", "email": "nobody@example.invalid"}';

do $$
begin
  assert (select count(*) from public.orders) = 0, 'a user without a profile sees orders';
  assert (select count(*) from public.distributors) = 0, 'a user without a profile sees distributors';
  assert (select count(*) from public.user_profiles) = 0, 'a user without a profile sees profiles';
end
$$;

-- Anon: nothing, and no writes.
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';

do $$
begin
  assert (select count(*) from public.orders) = 0, 'anon sees orders';
  assert (select count(*) from public.customers) = 0, 'anon sees customers';
  assert (select count(*) from public.distributors) = 0, 'anon sees distributors';
  begin
    insert into public.customers (distributor_id, name) values ('0a000000-0000-4000-8000-00000000000a', 'By anon');
    raise exception 'anon inserted a customer';
  exception when insufficient_privilege then
    null;
  end;
end
$$;

-- The service role bypasses RLS: both tenants (so every worker query must filter on distributor_id).
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';

do $$
begin
  assert (select count(*) from public.orders
           where distributor_id in ('0a000000-0000-4000-8000-00000000000a', '0b000000-0000-4000-8000-00000000000b')) = 2,
    'the service role sees both tenants';
end
$$;

reset role;
rollback;
