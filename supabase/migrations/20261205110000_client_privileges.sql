-- Privileges the API roles hold beyond what Row Level Security guards (issue 14, findings 9 and 1).
--
-- Supabase grants anon and authenticated every table privilege on public (select, insert,
-- update, delete, truncate, references, trigger; maintain on PostgreSQL 17+). RLS guards rows
-- of select/insert/update/delete only: TRUNCATE empties a table across every tenant
-- (`truncate orders cascade`), TRIGGER lets a signed-in user attach code to the service's
-- writes, REFERENCES lets one probe keys with a foreign key, MAINTAIN takes locks and rewrites.
-- They are revoked from the existing tables and, through default privileges, from the tables
-- later migrations create. `orderflow db audit` checks both (client_table_privileges).
--
-- Server columns: created_at and updated_at are the server's. A BEFORE trigger
-- (private.keep_server_columns) puts now() (or the old value) back whenever anon or
-- authenticated write a row, on every public table that has either column; an event trigger
-- adds it to tables later migrations create, so no tenant table is left out. Other server
-- columns (used_at, used_by ...) are not granted to the API roles at all (see the accounts
-- migration). `orderflow db audit` checks it (server_columns_writable).

revoke truncate, trigger, references on all tables in schema public from anon, authenticated;
alter default privileges in schema public revoke truncate, trigger, references on tables from anon, authenticated;

do $$
begin
  if current_setting('server_version_num')::integer >= 170000 then
    execute 'revoke maintain on all tables in schema public from anon, authenticated';
    execute 'alter default privileges in schema public revoke maintain on tables from anon, authenticated';
  end if;
end
$$;

create function private.keep_server_columns() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if current_user not in ('anon', 'authenticated') then
    return new;  -- the service and security definer functions set their own
  end if;
  if tg_op = 'INSERT' then
    new := jsonb_populate_record(new, jsonb_build_object('created_at', now(), 'updated_at', now()));
  else
    new := jsonb_populate_record(new, jsonb_build_object('created_at', to_jsonb(old) -> 'created_at',
                                                         'updated_at', now()));
  end if;
  return new;
end
$$;
comment on function private.keep_server_columns is
  'BEFORE INSERT/UPDATE for anon and authenticated: created_at and updated_at are set by the server, whatever the client sent';
revoke execute on function private.keep_server_columns from public;

-- Add the trigger to one public table with created_at or updated_at (no-op when present or not needed).
create function private.guard_server_columns(p_table regclass) returns void
language plpgsql
set search_path = ''
as $$
begin
  if not exists (select from pg_catalog.pg_attribute a
                  where a.attrelid = p_table and a.attname in ('created_at', 'updated_at') and not a.attisdropped)
     or exists (select from pg_catalog.pg_trigger t where t.tgrelid = p_table and t.tgname = 'keep_server_columns')
     or (select c.relkind from pg_catalog.pg_class c where c.oid = p_table) not in ('r', 'p') then
    return;
  end if;
  execute format('create trigger keep_server_columns before insert or update on %s '
                 'for each row execute function private.keep_server_columns()', p_table);
end
$$;
revoke execute on function private.guard_server_columns from public;

select private.guard_server_columns(c.oid)
  from pg_catalog.pg_class c
  join pg_catalog.pg_namespace n on n.oid = c.relnamespace
 where n.nspname = 'public' and c.relkind in ('r', 'p');

-- Tables created (or given the columns) by later migrations get it too.
create function private.guard_new_tables() returns event_trigger
language plpgsql
set search_path = ''
as $$
declare
  v_object record;
begin
  for v_object in
    select e.objid from pg_catalog.pg_event_trigger_ddl_commands() e
     where e.command_tag in ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS') and e.schema_name = 'public'
       and e.object_type = 'table'
  loop
    perform private.guard_server_columns(v_object.objid::regclass);
  end loop;
end
$$;
revoke execute on function private.guard_new_tables from public;

create event trigger orderflow_guard_server_columns on ddl_command_end
  when tag in ('CREATE TABLE', 'ALTER TABLE', 'CREATE TABLE AS')
  execute function private.guard_new_tables();
