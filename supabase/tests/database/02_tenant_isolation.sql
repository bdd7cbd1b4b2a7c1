-- Two distributors side by side: each user sees and changes only their own distributor's rows,
-- writes into the other one hit row-level security, a signed-in user without a profile and anon
-- see nothing, and the service role sees both (basejump 02-personal-accounts.sql).
begin;
create extension if not exists pgtap with schema extensions;
set local search_path = public, extensions;
grant execute on all functions in schema extensions to anon, authenticated, service_role;  -- pgTAP as those roles
select plan(27);

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

select results_eq('select id from public.orders', $$values ('da000000-0000-4000-8000-00000000000a'::uuid)$$,
                  'A''s admin sees exactly A''s order');
select results_eq('select id from public.distributors', $$values ('0a000000-0000-4000-8000-00000000000a'::uuid)$$,
                  'A''s admin sees only distributor A');
select is_empty($$select from public.customers where distributor_id = '0b000000-0000-4000-8000-00000000000b'$$,
                'A''s admin sees no customer of B');
select is((select count(*) from public.user_profiles), 2::bigint, 'A''s admin sees A''s two users only');
select is_empty($$update public.orders set notes = 'hijacked' where id = 'db000000-0000-4000-8000-00000000000b' returning id$$,
                'A''s admin cannot update B''s order');
select is_empty($$delete from public.customers where distributor_id = '0b000000-0000-4000-8000-00000000000b' returning id$$,
                'A''s admin cannot delete B''s customers');
select is_empty($$update public.distributors set name = 'hijacked' where id = '0b000000-0000-4000-8000-00000000000b' returning id$$,
                'A''s admin cannot rename distributor B');
select throws_like($$insert into public.customers (distributor_id, name) values ('0b000000-0000-4000-8000-00000000000b', 'Planted')$$,
                   '%violates row-level security%', 'A''s admin cannot insert a customer into B');
select throws_like($$update public.orders set distributor_id = '0b000000-0000-4000-8000-00000000000b'
                      where id = 'da000000-0000-4000-8000-00000000000a'$$,
                   '%violates row-level security%', 'A''s admin cannot move an order to B');
-- 42501 either way: the row-level-security refusal, or no grant on the column at all (issue 14)
select throws_ok($$update public.user_profiles set distributor_id = '0b000000-0000-4000-8000-00000000000b'
                   where id = '1a000000-0000-4000-8000-00000000000a'$$,
                 '42501', null, 'A''s admin cannot move themself to B');
select results_eq($$update public.orders set notes = 'checked' where id = 'da000000-0000-4000-8000-00000000000a' returning id$$,
                  $$values ('da000000-0000-4000-8000-00000000000a'::uuid)$$, 'A''s admin updates A''s own order');

-- A's viewer reads but cannot write.
set local request.jwt.claims = '{"sub": "2a000000-0000-4000-8000-00000000000a", "role": "authenticated", "email": "viewer-a@example.invalid"}';

select is((select count(*) from public.orders), 1::bigint, 'A''s viewer reads A''s order');
select is_empty($$update public.orders set notes = 'viewer was here' returning id$$, 'A''s viewer cannot update an order');
select throws_like($$insert into public.customers (distributor_id, name) values ('0a000000-0000-4000-8000-00000000000a', 'By a viewer')$$,
                   '%violates row-level security%', 'A''s viewer cannot insert a customer');

-- A deactivated user of A sees nothing any more.
reset role;
update public.user_profiles set active = false where id = '2a000000-0000-4000-8000-00000000000a';
set local role authenticated;

select is((select count(*) from public.orders), 0::bigint, 'a deactivated user reads no orders');
select is((select count(*) from public.distributors), 0::bigint, 'a deactivated user sees no distributor');

-- B's admin sees only B.
set local request.jwt.claims = '{"sub": "1b000000-0000-4000-8000-00000000000b", "role": "authenticated", "email": "admin-b@example.invalid"}';

select results_eq('select id from public.orders', $$values ('db000000-0000-4000-8000-00000000000b'::uuid)$$,
                  'B''s admin sees exactly B''s order');
select is_empty($$select from public.customers where distributor_id = '0a000000-0000-4000-8000-00000000000a'$$,
                'B''s admin sees no customer of A');

-- Signed in, but no profile (never invited): nothing.
set local request.jwt.claims = '{"sub": "3c000000-0000-4000-8000-00000000000c", "role": "authenticated", "email": "nobody@example.invalid"}';

select is((select count(*) from public.orders), 0::bigint, 'a user without a profile sees no orders');
select is((select count(*) from public.distributors), 0::bigint, 'a user without a profile sees no distributors');
select is((select count(*) from public.user_profiles), 0::bigint, 'a user without a profile sees no profiles');

-- Anon: nothing, and no writes.
set local role anon;
set local request.jwt.claims = '{"role": "anon"}';

select is((select count(*) from public.orders), 0::bigint, 'anon sees no orders');
select is((select count(*) from public.customers), 0::bigint, 'anon sees no customers');
select is((select count(*) from public.distributors), 0::bigint, 'anon sees no distributors');
select throws_ok($$insert into public.customers (distributor_id, name) values ('0a000000-0000-4000-8000-00000000000a', 'By anon')$$,
                 '42501', null, 'anon cannot insert a customer');

-- The service role bypasses RLS: both tenants (so every worker query must filter on distributor_id).
set local role service_role;
set local request.jwt.claims = '{"role": "service_role"}';

select is((select count(*) from public.orders
            where distributor_id in ('0a000000-0000-4000-8000-00000000000a', '0b000000-0000-4000-8000-00000000000b')),
          2::bigint, 'the service role sees both tenants');

reset role;
select is((select count(*) from public.user_profiles where active), 2::bigint, 'only the deactivated profile changed');

select * from finish();
rollback;
