-- Audit trail: who changed what and when on the sensitive tables (data_access_audit, written by
-- AFTER ROW triggers no code path can skip, secret columns stripped), security events
-- (security_audit_log, written through private.log_security_event), and both logs append-only.
--
-- Append-only means no UPDATE, DELETE or TRUNCATE for anyone, the table owner and superusers
-- included: BEFORE triggers raise, and the API roles lose those privileges as well. The one
-- exception is deleting a distributor: its ON DELETE CASCADE removes the distributor's audit
-- rows with it (the tenant is gone, and a FK to a missing row cannot stay). The trigger lets a
-- delete through only when the row's distributor no longer exists, which happens only inside
-- that cascade. (A superuser can still switch triggers off with session_replication_role.)

-- Secret columns are the ones commented "secret: ..."; mark those not marked yet.
comment on column public.webhook_endpoints.previous_secret is
  'secret: the whsec_ secret being rotated out; still signs until previous_secret_expires_at';
comment on column public.external_integrations.verify_token is
  'secret: the token WhatsApp echoes when verifying the webhook (hub.verify_token)';
comment on column public.external_integrations.access_token is
  'secret: the channel API access token (Graph API bearer)';

comment on table public.data_access_audit is
  'Append-only: one row per insert, update or delete on a sensitive table, with old and new values minus secret columns';
comment on column public.data_access_audit.actor_role is
  'The JWT role of the caller (authenticated, service_role), or service for direct database connections';
comment on table public.security_audit_log is
  'Append-only: security events (invitation_used, webhook_endpoint_disabled, webhook_secret_rotated, retention_applied ...)';
comment on column public.security_audit_log.actor is 'The auth user id, or service / the job name for the platform itself';

-- Grants: the API roles read through RLS (admins only) and never rewrite history.
revoke insert, update, delete, truncate, references, trigger
  on public.data_access_audit, public.security_audit_log from anon, authenticated;
revoke update, delete, truncate, references, trigger
  on public.data_access_audit, public.security_audit_log from service_role;

-- Triggers and the helpers behind them.

-- Who is acting: the signed-in user's id, or 'service' when no JWT is set (worker, CLI, jobs).
create function private.current_actor() returns text
language sql stable
set search_path = ''
as $$
  select coalesce((select auth.uid())::text, 'service')
$$;

create function private.log_security_event(
  p_distributor_id uuid,
  p_event_type text,
  p_severity text,
  p_actor text,
  p_details jsonb
) returns uuid
language sql security definer
set search_path = ''
as $$
  insert into public.security_audit_log (distributor_id, event_type, severity, actor, details)
  values (p_distributor_id, p_event_type, coalesce(p_severity, 'info'), coalesce(p_actor, private.current_actor()),
          coalesce(p_details, '{}'::jsonb))
  returning id
$$;
comment on function private.log_security_event is
  'Append one security event; severity info | warning | critical, actor defaults to private.current_actor()';

-- One audit row per changed row. TG_ARGV holds the table's secret columns, fixed when the trigger
-- is created (private.enable_access_audit), so no row pays for a catalog lookup.
create function private.audit_row_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_secrets text[] := coalesce(tg_argv, '{}');
begin
  if tg_op = 'INSERT' then
    insert into public.data_access_audit (distributor_id, actor_user_id, actor_role, table_name, row_id, action, new_values)
    values (new.distributor_id, auth.uid(), coalesce(auth.role(), 'service'), tg_table_name, new.id, 'insert',
            to_jsonb(new) - v_secrets);
    return null;
  end if;
  -- Deleting a distributor cascades here after its row is gone, and its audit rows go with it.
  if not exists (select from public.distributors d where d.id = old.distributor_id) then
    return null;
  end if;
  insert into public.data_access_audit (distributor_id, actor_user_id, actor_role, table_name, row_id, action,
                                        old_values, new_values)
  values (old.distributor_id, auth.uid(), coalesce(auth.role(), 'service'), tg_table_name, old.id, lower(tg_op),
          to_jsonb(old) - v_secrets, case when tg_op = 'UPDATE' then to_jsonb(new) - v_secrets end);
  return null;
end
$$;

-- (Re)create the audit trigger of one table with its current secret columns as arguments.
-- Run it again after adding a "secret:" column to an audited table.
create function private.enable_access_audit(p_table regclass) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_secrets text;
begin
  select string_agg(quote_literal(a.attname), ', ' order by a.attnum) into v_secrets
    from pg_catalog.pg_attribute a
   where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
     and pg_catalog.col_description(p_table, a.attnum) like 'secret:%';
  execute format('drop trigger if exists audit_row_change on %s', p_table);
  execute format('create trigger audit_row_change after insert or update or delete on %s '
                 'for each row execute function private.audit_row_change(%s)', p_table, coalesce(v_secrets, ''));
end
$$;

create function private.forbid_audit_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' and not exists (select from public.distributors d where d.id = old.distributor_id) then
    return old;  -- the cascade of deleting the distributor
  end if;
  raise exception '%.% is append-only: % is not allowed', tg_table_schema, tg_table_name, tg_op
    using errcode = 'insufficient_privilege';
end
$$;

create trigger append_only before update or delete on public.data_access_audit
  for each row execute function private.forbid_audit_change();
create trigger append_only_truncate before truncate on public.data_access_audit
  for each statement execute function private.forbid_audit_change();
create trigger append_only before update or delete on public.security_audit_log
  for each row execute function private.forbid_audit_change();
create trigger append_only_truncate before truncate on public.security_audit_log
  for each statement execute function private.forbid_audit_change();

select private.enable_access_audit('public.customers');
select private.enable_access_audit('public.orders');
select private.enable_access_audit('public.order_products');
select private.enable_access_audit('public.webhook_endpoints');
select private.enable_access_audit('public.user_profiles');
select private.enable_access_audit('public.external_integrations');

-- Security events of webhook endpoints: disabled (by an admin or the delivery worker), enabled
-- again, and signing secret rotated. Never the secret itself.
create function private.log_webhook_endpoint_change() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_actor text := private.current_actor();
begin
  if old.enabled and not new.enabled then
    perform private.log_security_event(new.distributor_id, 'webhook_endpoint_disabled', 'warning', v_actor,
      jsonb_build_object('endpoint_id', new.id, 'url', new.url, 'reason', new.disabled_reason));
  elsif new.enabled and not old.enabled then
    perform private.log_security_event(new.distributor_id, 'webhook_endpoint_enabled', 'info', v_actor,
      jsonb_build_object('endpoint_id', new.id, 'url', new.url));
  end if;
  if new.secret is distinct from old.secret then
    perform private.log_security_event(new.distributor_id, 'webhook_secret_rotated', 'info', v_actor,
      jsonb_build_object('endpoint_id', new.id, 'previous_secret_expires_at', new.previous_secret_expires_at));
  end if;
  return null;
end
$$;

create trigger log_security_events after update of enabled, secret on public.webhook_endpoints
  for each row when (old.enabled is distinct from new.enabled or old.secret is distinct from new.secret)
  execute function private.log_webhook_endpoint_change();

-- RPCs: the service logs failed inbound signature checks, budget hard stops and the like.
create function public.log_security_event_v1(
  p_distributor_id uuid,
  p_event_type text,
  p_severity text,
  p_actor text,
  p_details jsonb
) returns uuid
language sql security definer
set search_path = ''
as $$
  select private.log_security_event(p_distributor_id, p_event_type, p_severity, p_actor, p_details)
$$;
comment on function public.log_security_event_v1 is 'Append one security event (service_role only)';

revoke execute on function private.current_actor, private.log_security_event, private.audit_row_change,
  private.enable_access_audit, private.forbid_audit_change, private.log_webhook_endpoint_change from public;
revoke execute on function public.log_security_event_v1 from public, anon, authenticated;
grant execute on function public.log_security_event_v1 to service_role;
