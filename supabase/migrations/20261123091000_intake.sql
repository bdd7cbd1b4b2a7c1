-- Intake: the one function inbound channels call to store a message. It finds or creates the
-- customer and the open conversation, inserts the message as queued (deduplicated on the
-- provider's id: a repeated delivery returns the existing row) and wakes the workers.

create function public.ingest_message_v1(
  p_distributor_id uuid,
  p_channel text,
  p_provider_message_id text,
  p_handle text,
  p_profile_name text,
  p_body text,
  p_kind text default 'text',
  p_raw jsonb default null,
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
  v_phone text := case when p_channel in ('whatsapp', 'sms') then nullif(regexp_replace(p_handle, '[^0-9+]', '', 'g'), '') end;
begin
  if p_provider_message_id is not null then
    select m.id into v_message_id from public.messages m
     where m.distributor_id = p_distributor_id and m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    if found then
      return query select v_message_id, false;
      return;
    end if;
  end if;

  select c.customer_id into v_customer_id from public.conversations c
   where c.distributor_id = p_distributor_id and c.channel = p_channel and c.handle = p_handle and c.status = 'open';
  if v_customer_id is null and v_phone is not null then
    select cu.id into v_customer_id from public.customers cu where cu.distributor_id = p_distributor_id and cu.phone = v_phone;
  end if;
  if v_customer_id is null then
    insert into public.customers (distributor_id, name, phone)
    values (p_distributor_id, p_profile_name, v_phone)
    on conflict (distributor_id, phone) where phone is not null do nothing
    returning id into v_customer_id;
    if v_customer_id is null then  -- a concurrent intake created it first
      select cu.id into v_customer_id from public.customers cu where cu.distributor_id = p_distributor_id and cu.phone = v_phone;
    end if;
  end if;

  insert into public.conversations (distributor_id, customer_id, integration_id, channel, handle, last_message_at)
  values (p_distributor_id, v_customer_id, p_integration_id, p_channel, p_handle, coalesce(p_received_at, now()))
  on conflict (distributor_id, channel, handle) where status = 'open'
  do update set last_message_at = greatest(public.conversations.last_message_at, excluded.last_message_at)
  returning id, customer_id into v_conversation_id, v_customer_id;

  insert into public.messages (distributor_id, conversation_id, customer_id, direction, channel, provider_message_id,
                               kind, body, raw_payload, received_at, needs_review, review_reasons)
  values (p_distributor_id, v_conversation_id, v_customer_id, 'inbound', p_channel, p_provider_message_id,
          p_kind, p_body, p_raw, coalesce(p_received_at, now()), p_needs_review, p_review_reasons)
  on conflict (distributor_id, channel, provider_message_id) where provider_message_id is not null do nothing
  returning id into v_message_id;

  if v_message_id is null then  -- the same delivery raced us
    select m.id into v_message_id from public.messages m
     where m.distributor_id = p_distributor_id and m.channel = p_channel and m.provider_message_id = p_provider_message_id;
    return query select v_message_id, false;
    return;
  end if;

  insert into public.order_attachments (distributor_id, message_id, kind, media_id, mime_type, caption, location)
  select p_distributor_id, v_message_id, a ->> 'kind', a ->> 'media_id', a ->> 'mime_type', a ->> 'caption', a -> 'location'
    from jsonb_array_elements(coalesce(p_attachments, '[]'::jsonb)) a;

  perform pg_notify('orderflow_messages', p_distributor_id::text);
  return query select v_message_id, true;
end
$$;
comment on function public.ingest_message_v1 is 'Store one inbound message (idempotent on the provider id) and wake the workers';

-- Delivery receipts of our replies: recorded, never enqueued.
create function public.record_message_status_v1(
  p_distributor_id uuid,
  p_integration_id uuid,
  p_external_id text,
  p_status text,
  p_at timestamptz
) returns void
language sql
set search_path = ''
as $$
  insert into public.external_message_mappings (distributor_id, integration_id, external_id, external_status, status_at, message_id)
  values (p_distributor_id, p_integration_id, p_external_id, p_status, p_at,
          (select m.id from public.messages m where m.distributor_id = p_distributor_id and m.provider_message_id = p_external_id limit 1))
  on conflict (distributor_id, integration_id, external_id)
  do update set external_status = excluded.external_status, status_at = excluded.status_at
  where public.external_message_mappings.status_at is null or public.external_message_mappings.status_at <= excluded.status_at
$$;

revoke execute on function public.ingest_message_v1 from anon, authenticated;
revoke execute on function public.record_message_status_v1 from anon, authenticated;
grant execute on function public.ingest_message_v1 to service_role;
grant execute on function public.record_message_status_v1 to service_role;
