-- Setup: the private schema for internals, EXECUTE revoked from PUBLIC, the role enum,
-- and the helpers every tenant table uses (updated_at trigger, RLS policy generator).

revoke execute on all functions in schema public from public;
alter default privileges revoke execute on functions from public;

create schema private;
comment on schema private is 'Internal helpers; not exposed through the Supabase API';
grant usage on schema private to authenticated, service_role;

create type public.user_role as enum ('viewer', 'staff', 'manager', 'admin');
comment on type public.user_role is 'Roles inside a distributor: viewers read, staff work orders and conversations, managers also the catalog, admins manage users, endpoints and integrations';

create function private.set_updated_at() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  return new;
end
$$;

create function private.role_rank(p_role public.user_role) returns integer
language sql immutable
set search_path = ''
as $$
  select case p_role when 'viewer' then 1 when 'staff' then 2 when 'manager' then 3 when 'admin' then 4 end
$$;

-- Create the standard tenant policies for one table, one policy per command, to authenticated.
-- p_read: lowest role that may select; p_write: lowest role that may insert/update (null: nobody,
-- the service writes); p_delete: lowest role that may delete (null: nobody).
create function private.enable_tenant_rls(
  p_table regclass,
  p_read public.user_role,
  p_write public.user_role default null,
  p_delete public.user_role default null
) returns void
language plpgsql
set search_path = ''
as $$
declare
  tenant constant text := 'distributor_id = (select public.get_current_distributor_id())';
  role_check constant text := '(select private.current_role_rank()) >= %s';
begin
  execute format('alter table %s enable row level security', p_table);
  if exists (select from pg_attribute where attrelid = p_table and attname = 'updated_at' and not attisdropped) then
    execute format('create trigger set_updated_at before update on %s for each row execute function private.set_updated_at()', p_table);
  end if;
  execute format('create policy %I on %s for select to authenticated using (%s and ' || role_check || ')',
    p_read || ' and above read their distributor''s rows', p_table, tenant, private.role_rank(p_read));
  if p_write is not null then
    execute format('create policy %I on %s for insert to authenticated with check (%s and ' || role_check || ')',
      p_write || ' and above add rows to their distributor', p_table, tenant, private.role_rank(p_write));
    execute format('create policy %I on %s for update to authenticated using (%s and ' || role_check || ') with check (%s)',
      p_write || ' and above change their distributor''s rows', p_table, tenant, private.role_rank(p_write), tenant);
  end if;
  if p_delete is not null then
    execute format('create policy %I on %s for delete to authenticated using (%s and ' || role_check || ')',
      p_delete || ' and above delete their distributor''s rows', p_table, tenant, private.role_rank(p_delete));
  end if;
end
$$;
revoke execute on function private.enable_tenant_rls(regclass, public.user_role, public.user_role, public.user_role) from public;
