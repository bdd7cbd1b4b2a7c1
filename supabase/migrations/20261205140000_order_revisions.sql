-- Order revisions: every change to an order (from a customer's message, a staff action, the CLI or
-- the system) bumps orders.revision, keeps a snapshot of the whole order in public.order_revisions
-- and announces it as a webhook event carrying the whole order and its revision, so an ERP can
-- apply the events idempotently and in order (ignore a revision it has already seen).
--
-- Callers: record_outcome_v2 (the worker) and the staff review RPCs. private.record_order_revision_v1
-- is SECURITY DEFINER (it writes the outbox and the revision table, which no client may write) and
-- is executable by service_role only: a staff RPC calling it must itself be SECURITY DEFINER and
-- check the caller's tenant and role before it does.

alter table public.orders
  add column revision integer not null default 0 check (revision >= 0),
  add column customer_confirmed_at timestamptz,
  add column customer_confirmed_message_id uuid,
  add foreign key (distributor_id, customer_confirmed_message_id) references public.messages (distributor_id, id)
    on delete set null (customer_confirmed_message_id);
create index orders_customer_confirmed_message_idx on public.orders (distributor_id, customer_confirmed_message_id)
  where customer_confirmed_message_id is not null;
comment on column public.orders.revision is 'Bumped by every change (private.record_order_revision_v1); 0 before the first revision';
comment on column public.orders.customer_confirmed_at is 'When the customer confirmed the order (their message''s received_at); staff confirmation for dispatch is confirmed_at';
comment on column public.orders.customer_confirmed_message_id is 'The customer''s message (or reply button) that confirmed the order';

create table public.order_revisions (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  order_id uuid not null,
  revision integer not null check (revision > 0),
  event text not null check (event in ('order.created', 'order.updated', 'order.confirmed', 'order.cancelled')),
  source text not null check (source in ('message', 'staff', 'cli', 'system')),
  message_id uuid,
  actor_id uuid references auth.users (id) on delete set null,
  change jsonb not null default '{}'::jsonb,
  snapshot jsonb not null,
  created_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, order_id, revision),
  foreign key (distributor_id, order_id) references public.orders (distributor_id, id) on delete cascade,
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete set null (message_id)
);
create index order_revisions_message_idx on public.order_revisions (distributor_id, message_id) where message_id is not null;
create index order_revisions_actor_idx on public.order_revisions (actor_id) where actor_id is not null;
comment on table public.order_revisions is 'One row per change of an order: what changed, from which message or staff action, when, and the whole order after it';
comment on column public.order_revisions.change is 'What changed: {"action": ..., "lines": [{"op": "add"|"set"|"remove", "sku", "quantity", ...}]} or a staff action''s own shape';
comment on column public.order_revisions.snapshot is 'The whole order with its lines after this revision (the event payload)';
comment on column public.order_revisions.actor_id is 'The staff user who made the change (null for messages, CLI and system)';

select private.enable_tenant_rls('public.order_revisions', 'staff');
revoke insert, update, delete, truncate, references, trigger on public.order_revisions from anon, authenticated;

-- The whole order with its lines, as events and revisions carry it.
create function private.order_snapshot_v1(p_distributor_id uuid, p_order_id uuid)
returns jsonb
language sql stable
set search_path = ''
as $$
  select private.order_event_data(o.distributor_id, o.id) || jsonb_build_object(
           'revision', o.revision, 'delivery_text', o.delivery_text, 'notes', o.notes,
           'subtotal_cents', o.subtotal_cents, 'confirmed_at', o.confirmed_at,
           'customer_confirmed_at', o.customer_confirmed_at,
           'customer_confirmed_message_id', o.customer_confirmed_message_id,
           'created_at', o.created_at, 'updated_at', o.updated_at)
    from public.orders o
   where o.distributor_id = p_distributor_id and o.id = p_order_id
$$;

-- Bump the order's revision (its row lock serialises concurrent changers), keep the snapshot and
-- enqueue the event. Returns the new revision.
create function private.record_order_revision_v1(
  p_distributor_id uuid,
  p_order_id uuid,
  p_event text,
  p_source text,
  p_message_id uuid default null,
  p_actor_id uuid default null,
  p_change jsonb default '{}'::jsonb
) returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_revision integer;
  v_snapshot jsonb;
begin
  update public.orders o set revision = o.revision + 1
   where o.distributor_id = p_distributor_id and o.id = p_order_id
  returning o.revision into v_revision;
  if not found then
    raise exception 'no order % for distributor %', p_order_id, p_distributor_id using errcode = 'P0002';
  end if;
  v_snapshot := private.order_snapshot_v1(p_distributor_id, p_order_id);
  insert into public.order_revisions (distributor_id, order_id, revision, event, source, message_id, actor_id,
                                      change, snapshot)
  values (p_distributor_id, p_order_id, v_revision, p_event, p_source, p_message_id, p_actor_id,
          coalesce(p_change, '{}'::jsonb), v_snapshot);
  perform private.enqueue_event(p_distributor_id, p_event,
    v_snapshot || jsonb_build_object('source', p_source, 'change', coalesce(p_change, '{}'::jsonb)),
    p_message_id, p_order_id);
  return v_revision;
end
$$;
comment on function private.record_order_revision_v1(uuid, uuid, text, text, uuid, uuid, jsonb) is
  'One change of an order: revision + 1, a row in order_revisions with the whole order, the webhook event; returns the revision';

revoke execute on function private.order_snapshot_v1(uuid, uuid),
                           private.record_order_revision_v1(uuid, uuid, text, text, uuid, uuid, jsonb) from public;
grant execute on function private.order_snapshot_v1(uuid, uuid),
                          private.record_order_revision_v1(uuid, uuid, text, text, uuid, uuid, jsonb) to service_role;
