-- Personal data staff read (issue 14, findings 5, 6, 8 and 10).
--
-- 5. The audit trail kept plaintext phones and addresses (old and new values) after the rows
--    themselves were encrypted. Audit rows now keep, for every encrypted column (a column X with
--    an X_encrypted twin, the twin itself, and keyed *_hash columns), only "[encrypted]" (or
--    null), and under "_encrypted_changed" the names of those that changed; the trigger does it,
--    so no path skips it. Existing audit rows are rewritten the same way, once, here.
-- 6. Locations and captions shared in WhatsApp arrive encrypted (order_attachments.
--    location_encrypted, caption_encrypted: AES-256-GCM under the distributor's data key, written by
--    ingest_message_v3); plaintext from before is encrypted by the worker (encrypt_pending).
--    Retention (apply_retention_v2) clears them with the message body.
-- 8. Staff read the redacted body: authenticated may not select messages.body (nor the legacy
--    raw_payload, nor order_attachments' plaintext caption and location); body_redacted is the
--    text every role reads. Managers and admins read the verbatim body of one message through
--    public.message_body_v1, which writes a data_access_audit row ('select') each time.
--    Customers' WhatsApp profile names (customers.name) fall under the message_bodies retention:
--    a customer who has not written within the window loses the name.
-- 10. ingest_message_v3 NOTIFYs with an empty payload.

-- 6.
alter table public.order_attachments add column caption_encrypted bytea, add column location_encrypted bytea;
comment on column public.order_attachments.caption is 'Plaintext caption, only until the worker encrypts it into caption_encrypted';
comment on column public.order_attachments.location is 'Plaintext location, only until the worker encrypts it into location_encrypted';
comment on column public.order_attachments.caption_encrypted is 'The caption (or place name), AES-256-GCM under the distributor''s data key';
comment on column public.order_attachments.location_encrypted is 'The location (JSON), AES-256-GCM under the distributor''s data key';
create index order_attachments_plaintext_idx on public.order_attachments (distributor_id)
  where caption is not null or location is not null;

-- 8. Column privileges: everything but the verbatim text.
do $$
declare
  v_table text;
  v_hidden text[];
  v_columns text;
begin
  for v_table, v_hidden in
    values ('messages', array['body', 'raw_payload']), ('order_attachments', array['caption', 'location'])
  loop
    select string_agg(quote_ident(a.attname), ', ' order by a.attnum) into v_columns
      from pg_catalog.pg_attribute a
     where a.attrelid = ('public.' || v_table)::regclass and a.attnum > 0 and not a.attisdropped
       and a.attname <> all (v_hidden);
    execute format('revoke select on public.%I from anon, authenticated', v_table);
    execute format('grant select (%s) on public.%I to authenticated', v_columns, v_table);
  end loop;
end
$$;
comment on column public.messages.body is
  'The verbatim text: the service and, through message_body_v1, managers and admins; other roles read body_redacted';

create function public.message_body_v1(p_message_id uuid)
returns text
language plpgsql security definer
set search_path = ''
as $$
declare
  v_distributor_id uuid := public.get_current_distributor_id();
  v_body text;
begin
  if v_distributor_id is null or private.current_role_rank() < private.role_rank('manager') then
    raise exception 'only managers and admins read verbatim message bodies' using errcode = 'insufficient_privilege';
  end if;
  select m.body into v_body from public.messages m where m.distributor_id = v_distributor_id and m.id = p_message_id;
  if not found then
    return null;
  end if;
  insert into public.data_access_audit (distributor_id, actor_user_id, actor_role, table_name, row_id, action, new_values)
  values (v_distributor_id, auth.uid(), coalesce(auth.role(), 'authenticated'), 'messages', p_message_id, 'select',
          jsonb_build_object('column', 'body'));
  return v_body;
end
$$;
comment on function public.message_body_v1 is
  'The verbatim body of one of the caller''s distributor''s messages, for managers and admins; each read is audited';
revoke execute on function public.message_body_v1 from public, anon, service_role;
grant execute on function public.message_body_v1 to authenticated;

-- 5. Audit rows without encrypted values.
create function private.mask_encrypted(p_values jsonb, p_masked text[]) returns jsonb
language sql immutable
set search_path = ''
as $$
  select case when p_values is null then null else
    p_values || coalesce((select jsonb_object_agg(k, case when p_values -> k is null or p_values -> k = 'null'::jsonb
                                                          then 'null'::jsonb else '"[encrypted]"'::jsonb end)
                            from unnest(p_masked) k where p_values ? k), '{}'::jsonb) end
$$;

create function private.encrypted_changed(p_old jsonb, p_new jsonb, p_masked text[]) returns jsonb
language sql immutable
set search_path = ''
as $$
  select coalesce(jsonb_agg(k order by k), '[]'::jsonb)
    from unnest(p_masked) k
   where (p_old ? k or p_new ? k) and (p_old -> k) is distinct from (p_new -> k)
$$;

-- The columns an audit row of p_table must not hold in the clear.
create function private.encrypted_columns(p_table regclass) returns text[]
language sql stable
set search_path = ''
as $$
  select coalesce(array_agg(a.attname::text order by a.attnum), '{}')
    from pg_catalog.pg_attribute a
   where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
     and (a.attname like '%\_encrypted' or a.attname like '%\_hash'
          or exists (select from pg_catalog.pg_attribute t where t.attrelid = p_table and not t.attisdropped
                        and t.attname = a.attname || '_encrypted'))
$$;

-- TG_ARGV: 'secret:<column>' (left out) and 'masked:<column>' (kept as "[encrypted]").
create function private.audit_row_change_v2() returns trigger
language plpgsql security definer
set search_path = ''
as $$
declare
  v_secrets text[] := array(select substr(a, 8) from unnest(coalesce(tg_argv, '{}')) a where a like 'secret:%');
  v_masked text[] := array(select substr(a, 8) from unnest(coalesce(tg_argv, '{}')) a where a like 'masked:%');
  v_old jsonb;
  v_new jsonb;
begin
  if tg_op <> 'INSERT' and not exists (select from public.distributors d where d.id = old.distributor_id) then
    return null;  -- deleting a distributor cascades here after its row is gone
  end if;
  if tg_op <> 'INSERT' then
    v_old := to_jsonb(old) - v_secrets;
  end if;
  if tg_op <> 'DELETE' then
    v_new := to_jsonb(new) - v_secrets;
  end if;
  insert into public.data_access_audit (distributor_id, actor_user_id, actor_role, table_name, row_id, action,
                                        old_values, new_values)
  values ((coalesce(v_new, v_old) ->> 'distributor_id')::uuid, auth.uid(), coalesce(auth.role(), 'service'), tg_table_name,
          (coalesce(v_new, v_old) ->> 'id')::uuid, lower(tg_op), private.mask_encrypted(v_old, v_masked),
          case when tg_op = 'DELETE' then null
               else private.mask_encrypted(v_new, v_masked)
                    || jsonb_build_object('_encrypted_changed', private.encrypted_changed(v_old, v_new, v_masked)) end);
  return null;
end
$$;

create function private.enable_access_audit_v2(p_table regclass) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_args text;
begin
  select string_agg(quote_literal(arg), ', ') into v_args
    from (select 'secret:' || a.attname as arg
            from pg_catalog.pg_attribute a
           where a.attrelid = p_table and a.attnum > 0 and not a.attisdropped
             and pg_catalog.col_description(p_table, a.attnum) like 'secret:%'
          union all
          select 'masked:' || c from unnest(private.encrypted_columns(p_table)) c) args;
  execute format('drop trigger if exists audit_row_change on %s', p_table);
  execute format('create trigger audit_row_change after insert or update or delete on %s '
                 'for each row execute function private.audit_row_change_v2(%s)', p_table, coalesce(v_args, ''));
end
$$;

revoke execute on function private.mask_encrypted, private.encrypted_changed, private.encrypted_columns,
  private.audit_row_change_v2, private.enable_access_audit_v2 from public;

select private.enable_access_audit_v2(t.tgrelid)
  from pg_catalog.pg_trigger t where t.tgname = 'audit_row_change';

-- The existing audit rows, rewritten once (append-only for clients; this migration is the owner).
alter table public.data_access_audit disable trigger append_only;
update public.data_access_audit a
   set old_values = private.mask_encrypted(a.old_values, m.masked),
       new_values = case when a.new_values is null then null
                         else private.mask_encrypted(a.new_values, m.masked)
                              || jsonb_build_object('_encrypted_changed',
                                                    private.encrypted_changed(a.old_values, a.new_values, m.masked)) end
  from (select c.relname::text as table_name, private.encrypted_columns(c.oid) as masked
          from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p')) m
 where m.table_name = a.table_name and cardinality(m.masked) > 0
   and (a.old_values ?| m.masked or a.new_values ?| m.masked);
alter table public.data_access_audit enable trigger append_only;

-- 6, 8 and 10: intake and retention.
create function public.ingest_message_v3(
  p_distributor_id uuid,
  p_channel text,
  p_provider_message_id text,
  p_handle_hash text,
  p_handle_encrypted bytea,
  p_phone_hash bytea,
  p_phone_encrypted bytea,
  p_profile_name text,
  p_body text,
  p_kind text default 'text',
  p_raw_encrypted bytea default null,
  p_received_at timestamptz default now(),
  p_integration_id uuid default null,
  p_needs_review boolean default false,
  p_review_reasons text[] default '{}',
  p_attachments jsonb default '[]'::jsonb
) returns table (message_id uuid, created boolean)
language plpgsql
set search_path = ''
as $$
declare
  v_customer_id uuid;
  v_conversation_id uuid;
  v_message_id uuid;
begin
  if p_handle_hash not like 'h1:%' then
    raise exception 'ingest_message_v3 takes a keyed hash as the handle, got a plaintext value'
      using errcode = 'invalid_parameter_value';
  end if;
  if p_provider_message_id is not null then
    select m.id into v_message_id from public.messages m
     where m.distributor_id = p_distributor_id and m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    if found then
      return query select v_message_id, false;
      return;
    end if;
  end if;

  select c.customer_id into v_customer_id from public.conversations c
   where c.distributor_id = p_distributor_id and c.channel = p_channel and c.handle = p_handle_hash and c.status = 'open';
  if v_customer_id is null and p_phone_hash is not null then
    select cu.id into v_customer_id from public.customers cu
     where cu.distributor_id = p_distributor_id and cu.phone_hash = p_phone_hash;
  end if;
  if v_customer_id is null then
    insert into public.customers (distributor_id, name, phone_hash, phone_encrypted)
    values (p_distributor_id, p_profile_name, p_phone_hash, p_phone_encrypted)
    on conflict (distributor_id, phone_hash) where phone_hash is not null do nothing
    returning id into v_customer_id;
    if v_customer_id is null then  -- a concurrent intake created it first
      select cu.id into v_customer_id from public.customers cu
       where cu.distributor_id = p_distributor_id and cu.phone_hash = p_phone_hash;
    end if;
  end if;

  insert into public.conversations (distributor_id, customer_id, integration_id, channel, handle, handle_encrypted,
                                    last_message_at)
  values (p_distributor_id, v_customer_id, p_integration_id, p_channel, p_handle_hash, p_handle_encrypted,
          coalesce(p_received_at, now()))
  on conflict (distributor_id, channel, handle) where status = 'open'
  do update set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at)
  returning id, customer_id into v_conversation_id, v_customer_id;

  insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id,
                               kind, body, raw_payload_encrypted, received_at, needs_review, review_reasons)
  values (p_distributor_id, v_conversation_id, v_customer_id, 'inbound', p_channel, p_provider_message_id,
          p_kind, p_body, p_raw_encrypted, coalesce(p_received_at, now()), p_needs_review, p_review_reasons)
  on conflict (distributor_id, channel, provider_message_id) where provider_message_id is not null do nothing
  returning id into v_message_id;

  if v_message_id is null then  -- the same delivery raced us
    select m.id into v_message_id from public.messages m
     where m.distributor_id = p_distributor_id and m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    return query select v_message_id, false;
    return;
  end if;

  insert into public.order_attachments (distributor_id, message_id, kind, media_id, mime_type, caption_encrypted,
                                        location_encrypted)
  select p_distributor_id, v_message_id, a ->> 'kind', a ->> 'media_id', a ->> 'mime_type',
         decode(a ->> 'caption_encrypted', 'base64'), decode(a ->> 'location_encrypted', 'base64')
    from jsonb_array_elements(coalesce(p_attachments, '[]'::jsonb)) a;

  perform pg_notify('orderflow_messages', '');
  return query select v_message_id, true;
end
$$;
comment on function public.ingest_message_v3 is
  'ingest_message_v2 with attachments'' caption and location arriving encrypted (base64 caption_encrypted, location_encrypted) and an empty NOTIFY payload';
revoke execute on function public.ingest_message_v3 from public, anon, authenticated;
grant execute on function public.ingest_message_v3 to service_role;

create function public.apply_retention_v2(p_distributor_id uuid, p_data_kind text, p_batch_size integer)
returns integer
language plpgsql
set search_path = ''
as $$
declare
  v_policy record;
  v_cutoff timestamptz;
  v_count integer;
  v_names integer;
begin
  select r.* into v_policy from public.retention_policies_v1(p_distributor_id) r where r.data_kind = p_data_kind;
  if not found then
    raise exception 'unknown data kind %', p_data_kind using errcode = 'invalid_parameter_value';
  end if;
  if v_policy.action = 'keep' then
    return 0;
  end if;
  v_cutoff := now() - make_interval(days => v_policy.retain_days);

  -- The batch is collected first and the rows are then addressed by primary key.
  if p_data_kind = 'message_bodies' then
    with picked as materialized (
      select q.id from public.messages q
       where q.distributor_id = p_distributor_id and q.received_at < v_cutoff
         and (q.body is not null or q.body_redacted is not null or q.raw_payload is not null
              or q.raw_payload_encrypted is not null)
         and q.state not in ('queued', 'processing')
       order by q.received_at limit p_batch_size for update skip locked
    ), attachments as (
      update public.order_attachments a
         set caption = null, location = null, caption_encrypted = null, location_encrypted = null
        from picked
       where a.distributor_id = p_distributor_id and a.message_id = picked.id
         and (a.caption is not null or a.location is not null or a.caption_encrypted is not null
              or a.location_encrypted is not null)
      returning 1
    )
    update public.messages m set body = null, body_redacted = null, raw_payload = null, raw_payload_encrypted = null
      from picked where m.id = picked.id;
    get diagnostics v_count = row_count;
    -- WhatsApp profile names of customers who have not written since the cutoff (and have written).
    update public.customers c set name = null
     where c.id = any (array(
       select cu.id from public.customers cu
        where cu.distributor_id = p_distributor_id and cu.name is not null
          and exists (select from public.messages m where m.distributor_id = cu.distributor_id and m.customer_id = cu.id)
          and not exists (select from public.messages m where m.distributor_id = cu.distributor_id
                             and m.customer_id = cu.id and m.received_at >= v_cutoff)
        limit p_batch_size for update skip locked));
    get diagnostics v_names = row_count;
    return v_count + v_names;
  elsif p_data_kind = 'pii_findings' then
    delete from public.pii_detection_results f
     where f.id = any (array(
       select q.id from public.pii_detection_results q
        where q.distributor_id = p_distributor_id and q.created_at < v_cutoff
        order by q.created_at limit p_batch_size for update skip locked));
  elsif p_data_kind = 'ai_responses' and v_policy.action = 'delete' then
    delete from public.ai_responses r
     where r.id = any (array(
       select q.id from public.ai_responses q
        where q.distributor_id = p_distributor_id and q.created_at < v_cutoff
        order by q.created_at limit p_batch_size for update skip locked));
  elsif p_data_kind = 'ai_responses' then
    update public.ai_responses r set output = '{}'::jsonb
     where r.id = any (array(
       select q.id from public.ai_responses q
        where q.distributor_id = p_distributor_id and q.created_at < v_cutoff and q.output <> '{}'::jsonb
        order by q.created_at limit p_batch_size for update skip locked));
  else
    return 0;
  end if;
  get diagnostics v_count = row_count;
  return v_count;
end
$$;

create function public.retention_due_v2(p_distributor_id uuid, p_data_kind text)
returns bigint
language plpgsql stable
set search_path = ''
as $$
declare
  v_policy record;
  v_cutoff timestamptz;
begin
  select r.* into v_policy from public.retention_policies_v1(p_distributor_id) r where r.data_kind = p_data_kind;
  if not found then
    raise exception 'unknown data kind %', p_data_kind using errcode = 'invalid_parameter_value';
  end if;
  if v_policy.action = 'keep' then
    return 0;
  end if;
  v_cutoff := now() - make_interval(days => v_policy.retain_days);
  return case
    when p_data_kind = 'message_bodies' then (
      select count(*) from public.messages q
       where q.distributor_id = p_distributor_id and q.received_at < v_cutoff
         and (q.body is not null or q.body_redacted is not null or q.raw_payload is not null
              or q.raw_payload_encrypted is not null)
         and q.state not in ('queued', 'processing'))
      + (select count(*) from public.customers cu
          where cu.distributor_id = p_distributor_id and cu.name is not null
            and exists (select from public.messages m where m.distributor_id = cu.distributor_id and m.customer_id = cu.id)
            and not exists (select from public.messages m where m.distributor_id = cu.distributor_id
                               and m.customer_id = cu.id and m.received_at >= v_cutoff))
    when p_data_kind = 'pii_findings' then (
      select count(*) from public.pii_detection_results q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff)
    when p_data_kind = 'ai_responses' and v_policy.action = 'delete' then (
      select count(*) from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff)
    when p_data_kind = 'ai_responses' then (
      select count(*) from public.ai_responses q
       where q.distributor_id = p_distributor_id and q.created_at < v_cutoff and q.output <> '{}'::jsonb)
    else 0
  end;
end
$$;

revoke execute on function public.apply_retention_v2, public.retention_due_v2 from public, anon, authenticated;
grant execute on function public.apply_retention_v2, public.retention_due_v2 to service_role;
