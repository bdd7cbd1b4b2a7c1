-- Replies to the customer: a queue of outbound messages and the sender's side of it.
--
-- record_outcome stores the reply as an outbound message that nothing sends. Here every reply
-- gets a reply_deliveries row as it is stored (a trigger): queued → sent → delivered → read, or
-- failed with a reason. The reply sender (webhooks/outbound/replies.py) claims them round-robin
-- across distributors under a lease, sends them through the conversation's integration (WhatsApp
-- Cloud API, or a signed POST to a generic channel's reply URL) and finishes them in batches. WhatsApp status webhooks update the row by
-- its wamid, in any order: a status never moves a reply backwards (a late `sent` never overwrites
-- `read`).
--
-- Idempotency: a reply Meta accepted (a wamid is recorded) is never claimed again. A lease that
-- expires while an attempt was in flight means the request may have reached Meta: the reply fails
-- with `outcome_unknown` instead of being sent a second time (a person sees it).
--
-- Integrations: the WhatsApp access token is stored encrypted (access_token_encrypted, sealed by
-- the service with the distributor's data key, never readable by authenticated). A 401 / code 190
-- marks the integration failing, emits integration.failing once, and its replies wait, queued,
-- until set_integration_token_v1 stores a new token.

create type public.reply_status as enum ('queued', 'sent', 'delivered', 'read', 'failed');
comment on type public.reply_status is 'queued → sent → delivered → read, or failed (with error_code and last_error)';

-- access_token_encrypted: the ops branch's 20261205130000_operator_onboarding.sql adds the same
-- column, sealed the same way (column "external_integrations.access_token"); whichever migration
-- runs first creates it.
alter table public.external_integrations
  add column if not exists access_token_encrypted bytea,
  add column failing_since timestamptz,
  add column failing_reason text;
comment on column public.external_integrations.access_token is
  'secret: plaintext WhatsApp access token of rows from before access_token_encrypted; never readable by authenticated';
comment on column public.external_integrations.access_token_encrypted is
  'secret: the WhatsApp access token, AES-256-GCM under the distributor''s data key; never readable by authenticated';
comment on column public.external_integrations.failing_since is
  'Set when the provider refused the token (401 / code 190); replies wait until a new token is stored';
grant select (failing_since, failing_reason) on public.external_integrations to authenticated;

alter table public.distributors
  add column whatsapp_template_name text,
  add column whatsapp_template_language text;
comment on column public.distributors.whatsapp_template_name is
  'Approved WhatsApp template sent when the 24-hour window is closed (error 131047); null: the default name';
comment on column public.distributors.whatsapp_template_language is
  'Language code of that template (e.g. es_MX); null: the reply''s language';

create table public.reply_deliveries (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid not null,
  integration_id uuid,
  order_id uuid,
  kind text not null default 'text' check (kind in ('text', 'confirmation')),
  status public.reply_status not null default 'queued',
  attempts integer not null default 0,
  next_attempt_at timestamptz not null default now(),
  locked_by text,
  locked_until timestamptz,
  provider_message_id text,
  via_template boolean not null default false,
  error_code text,
  last_error text,
  sent_at timestamptz,
  delivered_at timestamptz,
  read_at timestamptz,
  failed_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, message_id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete cascade,
  foreign key (distributor_id, integration_id) references public.external_integrations (distributor_id, id)
    on delete set null (integration_id),
  foreign key (distributor_id, order_id) references public.orders (distributor_id, id) on delete set null (order_id)
);
create index reply_deliveries_due_idx on public.reply_deliveries (distributor_id, next_attempt_at) where status = 'queued';
create index reply_deliveries_lease_idx on public.reply_deliveries (locked_until) where locked_by is not null;
create unique index reply_deliveries_provider_key on public.reply_deliveries (integration_id, provider_message_id)
  where provider_message_id is not null;
create index reply_deliveries_integration_idx on public.reply_deliveries (distributor_id, integration_id);
create index reply_deliveries_order_idx on public.reply_deliveries (distributor_id, order_id);
comment on table public.reply_deliveries is 'The send queue of replies (outbound messages) and their delivery status';
comment on column public.reply_deliveries.kind is 'confirmation: an order confirmation, sent with confirm / change reply buttons';
comment on column public.reply_deliveries.provider_message_id is '@external the wamid Meta returned; status webhooks find the reply by it';
comment on column public.reply_deliveries.via_template is 'Sent as the distributor''s approved template (the 24-hour window was closed)';
comment on column public.reply_deliveries.error_code is 'The provider''s error code of the last failure (Meta: 131047, 130429, 131026 ...)';

select private.enable_tenant_rls('public.reply_deliveries', 'viewer');

-- Where a status ranks: a reply only moves forward (failed only from queued or sent).
create function private.reply_status_rank(p_status public.reply_status)
returns integer
language sql immutable
set search_path = ''
as $$
  select case p_status when 'queued' then 0 when 'sent' then 1 when 'delivered' then 2 when 'read' then 3 else 4 end
$$;

-- Every reply becomes a queue row as it is stored, whichever function stores it (record_outcome_v1,
-- a later version, or staff answering from their client): a trigger on outbound messages. The
-- order the reply is about is the one of this conversation's customer that the same transaction
-- created or changed (created_at / updated_at = now(), the transaction's start); a created order
-- makes the reply a confirmation (sent with confirm / change buttons). A conversation without an
-- integration cannot be answered: its reply is kept failed (no_integration), visible. Security
-- definer: the queue row is written whoever stores the message (staff cannot write the queue).
create function private.queue_reply()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_integration_id uuid;
  v_order record;
begin
  select c.integration_id into v_integration_id from public.conversations c
   where c.distributor_id = new.distributor_id and c.id = new.conversation_id;
  select o.id, o.status into v_order from public.orders o
   where o.distributor_id = new.distributor_id and o.customer_id = new.customer_id
     and (o.created_at = now() or o.updated_at = now())
   order by o.updated_at desc, o.created_at desc
   limit 1;
  insert into public.reply_deliveries (distributor_id, message_id, integration_id, order_id, kind, status, last_error,
                                       failed_at)
  values (new.distributor_id, new.id, v_integration_id, v_order.id,
          case when v_order.status = 'created' then 'confirmation' else 'text' end,
          case when v_integration_id is null then 'failed' else 'queued' end::public.reply_status,
          case when v_integration_id is null then 'no_integration' end,
          case when v_integration_id is null then now() end);
  if v_integration_id is not null then
    perform pg_notify('orderflow_replies', new.distributor_id::text);
  end if;
  return null;
end
$$;
comment on function private.queue_reply is 'Queue every stored reply (outbound message) for the reply sender';

create trigger queue_reply after insert on public.messages
  for each row when (new.direction = 'outbound' and new.state = 'outbound')
  execute function private.queue_reply();

-- Claim due replies: round-robin across distributors (at most p_per_distributor each per call),
-- only of enabled integrations that are not failing. First, replies whose lease expired while an
-- attempt was in flight fail with outcome_unknown (Meta may have accepted them: never sent twice).
-- Returns what an attempt needs; secrets stay in the service (the token is decrypted there).
create function public.claim_replies_v1(p_worker_id text, p_batch integer, p_lease_seconds integer,
                                        p_per_distributor integer)
returns table (reply_id uuid, distributor_id uuid, message_id uuid, integration_id uuid, integration_kind text,
               channel text, account text, access_token text, access_token_encrypted bytea, signing_secret text,
               integration_settings jsonb, handle_encrypted bytea, handle text, body text, language text,
               kind text, order_id uuid, attempts integer, via_template boolean, template_name text,
               template_language text)
language plpgsql
set search_path = ''
as $$
begin
  update public.reply_deliveries r
     set status = 'failed', locked_by = null, locked_until = null, failed_at = now(), attempts = r.attempts + 1,
         last_error = 'outcome_unknown: the sender stopped during the attempt; not sent again'
   where r.id = any (array(
     select q.id from public.reply_deliveries q
      where q.locked_by is not null and q.locked_until < now() and q.status = 'queued'
      for update skip locked));

  return query
  with candidates as (
    select c.id, c.distributor_id, c.next_attempt_at
      from public.distributors d
     cross join lateral (
       select q.id, q.distributor_id, q.next_attempt_at from public.reply_deliveries q
        where q.distributor_id = d.id and q.status = 'queued' and q.next_attempt_at <= now() and q.locked_by is null
          and exists (select from public.external_integrations i
                       where i.distributor_id = q.distributor_id and i.id = q.integration_id
                         and i.enabled and i.failing_since is null)
        order by q.next_attempt_at
        limit p_per_distributor
        for update of q skip locked) c
  ),
  ranked as (
    select c.id, c.next_attempt_at, row_number() over (partition by c.distributor_id order by c.next_attempt_at, c.id) as rn
      from candidates c
  ),
  claimed as (
    update public.reply_deliveries r
       set locked_by = p_worker_id, locked_until = now() + make_interval(secs => p_lease_seconds)
     where r.id = any (array(select k.id from ranked k order by k.rn, k.next_attempt_at limit p_batch))
    returning r.id, r.distributor_id, r.message_id, r.integration_id, r.kind, r.order_id, r.attempts, r.via_template
  )
  select c.id, c.distributor_id, c.message_id, c.integration_id, i.kind, i.channel, i.external_account_id,
         i.access_token, i.access_token_encrypted, i.signing_secret, i.settings, cv.handle_encrypted,
         case when cv.handle not like 'h1:%' then cv.handle end, m.body, m.language, c.kind, c.order_id, c.attempts,
         c.via_template, d.whatsapp_template_name, d.whatsapp_template_language
    from claimed c
    join public.messages m on m.distributor_id = c.distributor_id and m.id = c.message_id
    join public.conversations cv on cv.distributor_id = m.distributor_id and cv.id = m.conversation_id
    join public.external_integrations i on i.distributor_id = c.distributor_id and i.id = c.integration_id
    join public.distributors d on d.id = c.distributor_id;
end
$$;
comment on function public.claim_replies_v1 is
  'Lease due replies round-robin across distributors, of enabled integrations that are not failing';

-- Record a batch of attempt results, one object per claimed reply:
--   {"id", "outcome": "sent" | "retry" | "failed" | "token" | "release", "provider_message_id",
--    "via_template", "error_code", "error", "delay" (seconds, retry)}
-- sent: the provider accepted it (the wamid is kept on the reply and its message; a status that
-- arrived before this write is applied); retry: queued again after `delay`; failed: for good;
-- token: the integration's token was refused: the integration is marked failing (integration.failing
-- once), the reply waits queued, the attempt not counted; release: not attempted (shutdown).
-- Rows no longer leased by p_worker_id are skipped. Returns the replies recorded and the
-- integrations this call marked failing.
create function public.finish_replies_v1(p_worker_id text, p_results jsonb)
returns table (finished integer, failing_integrations uuid[])
language plpgsql
set search_path = ''
as $$
declare
  v_finished integer;
  v_token uuid[];
  v_failing uuid[] := '{}';
  v_integration record;
begin
  with results as (
    select x.id, x.outcome, x.provider_message_id, coalesce(x.via_template, false) as via_template,
           left(x.error_code, 40) as error_code, left(x.error, 1000) as error, x.delay
      from jsonb_to_recordset(p_results) as x(id uuid, outcome text, provider_message_id text, via_template boolean,
                                               error_code text, error text, delay double precision)
     where x.outcome in ('sent', 'retry', 'failed', 'token', 'release')
  ), updated as (
    update public.reply_deliveries r
       set status = case s.outcome when 'sent' then 'sent' when 'failed' then 'failed' else 'queued' end::public.reply_status,
           attempts = r.attempts + case when s.outcome in ('release', 'token') then 0 else 1 end,
           next_attempt_at = case when s.outcome = 'retry'
                                  then now() + make_interval(secs => greatest(coalesce(s.delay, 0), 0))
                                  else r.next_attempt_at end,
           locked_by = null, locked_until = null,
           provider_message_id = coalesce(s.provider_message_id, r.provider_message_id),
           via_template = r.via_template or s.via_template,
           error_code = case when s.outcome = 'release' then r.error_code else s.error_code end,
           last_error = case when s.outcome = 'release' then r.last_error else s.error end,
           sent_at = case when s.outcome = 'sent' then now() else r.sent_at end,
           failed_at = case when s.outcome = 'failed' then now() else r.failed_at end
      from results s
     where r.id = s.id and r.status = 'queued' and r.locked_by = p_worker_id
    returning r.id, r.distributor_id, r.integration_id, r.message_id, r.provider_message_id, s.outcome, s.error
  ), messages as (
    update public.messages m
       set provider_message_id = u.provider_message_id
      from updated u
     where u.outcome = 'sent' and m.distributor_id = u.distributor_id and m.id = u.message_id
    returning m.id
  )
  select count(*)::integer, coalesce(array_agg(distinct u.integration_id) filter (where u.outcome = 'token'), '{}')
    into v_finished, v_token
    from updated u;

  -- Statuses that arrived before the wamid was written (external_message_mappings keeps them).
  update public.reply_deliveries r
     set status = case when private.reply_status_rank(x.external_status::public.reply_status)
                            > private.reply_status_rank(r.status)
                       then x.external_status::public.reply_status else r.status end,
         delivered_at = case when x.external_status in ('delivered', 'read') then coalesce(r.delivered_at, x.status_at)
                             else r.delivered_at end,
         read_at = case when x.external_status = 'read' then coalesce(r.read_at, x.status_at) else r.read_at end
    from public.external_message_mappings x
   where r.id = any (array(select (e ->> 'id')::uuid from jsonb_array_elements(p_results) e where e ->> 'outcome' = 'sent'))
     and x.distributor_id = r.distributor_id and x.integration_id = r.integration_id
     and x.external_id = r.provider_message_id and x.external_status in ('delivered', 'read');

  for v_integration in
    update public.external_integrations i
       set failing_since = now(), failing_reason = 'token_refused'
     where i.id = any (v_token) and i.failing_since is null
    returning i.id, i.distributor_id, i.kind, i.name
  loop
    v_failing := v_failing || v_integration.id;
    perform private.enqueue_event(v_integration.distributor_id, 'integration.failing',
      jsonb_build_object('integration_id', v_integration.id, 'kind', v_integration.kind, 'name', v_integration.name,
                         'reason', 'token_refused'), null, null);
  end loop;
  return query select v_finished, v_failing;
end
$$;
comment on function public.finish_replies_v1 is
  'Record a batch of reply attempt results; a refused token marks the integration failing (integration.failing)';

-- Status webhooks v2: v1 (the mapping row), then the reply with that wamid moves forward only.
-- A reply Meta accepted and then failed with 131047 (the 24-hour window had closed) is queued
-- again, to be sent as the distributor's template (via_template); a template is never re-sent.
create function public.record_message_status_v2(
  p_distributor_id uuid,
  p_integration_id uuid,
  p_external_id text,
  p_status text,
  p_at timestamptz,
  p_error_code text default null,
  p_error text default null
) returns void
language plpgsql
set search_path = ''
as $$
declare
  v_status public.reply_status := p_status::public.reply_status;
begin
  perform public.record_message_status_v1(p_distributor_id, p_integration_id, p_external_id, p_status, p_at);
  if v_status = 'failed' and p_error_code = '131047' then
    update public.reply_deliveries r
       set status = 'queued', via_template = true, provider_message_id = null, next_attempt_at = now(),
           error_code = p_error_code, last_error = left(p_error, 1000)
     where r.distributor_id = p_distributor_id and r.integration_id = p_integration_id
       and r.provider_message_id = p_external_id and not r.via_template and r.status = 'sent';
    if found then
      perform pg_notify('orderflow_replies', p_distributor_id::text);
      return;
    end if;
  end if;
  update public.reply_deliveries r
     set status = case
                    when v_status = 'failed' and private.reply_status_rank(r.status) <= 1 then 'failed'
                    when v_status <> 'failed' and private.reply_status_rank(v_status) > private.reply_status_rank(r.status)
                      then v_status
                    else r.status end::public.reply_status,
         sent_at = case when v_status = 'sent' then least(coalesce(r.sent_at, p_at), p_at) else r.sent_at end,
         delivered_at = case when v_status = 'delivered' then least(coalesce(r.delivered_at, p_at), p_at)
                             when v_status = 'read' then coalesce(r.delivered_at, p_at)  -- read implies delivered
                             else r.delivered_at end,
         read_at = case when v_status = 'read' then coalesce(r.read_at, p_at) else r.read_at end,
         failed_at = case when v_status = 'failed' and private.reply_status_rank(r.status) <= 1 then p_at else r.failed_at end,
         error_code = case when v_status = 'failed' and private.reply_status_rank(r.status) <= 1
                           then left(p_error_code, 40) else r.error_code end,
         last_error = case when v_status = 'failed' and private.reply_status_rank(r.status) <= 1
                           then left(p_error, 1000) else r.last_error end
   where r.distributor_id = p_distributor_id and r.integration_id = p_integration_id
     and r.provider_message_id = p_external_id;
end
$$;
comment on function public.record_message_status_v2 is
  'Record a WhatsApp delivery status; the reply with that wamid only ever moves forward (sent < delivered < read)';

-- A new access token (sealed by the service): the integration stops failing and its waiting
-- replies are sent. Returns whether the integration was failing.
create function public.set_integration_token_v1(p_distributor_id uuid, p_integration_id uuid, p_token_encrypted bytea)
returns boolean
language plpgsql
set search_path = ''
as $$
declare
  v_was_failing boolean;
begin
  select i.failing_since is not null into v_was_failing from public.external_integrations i
   where i.distributor_id = p_distributor_id and i.id = p_integration_id for update;
  if not found then
    raise exception 'no integration % for distributor %', p_integration_id, p_distributor_id
      using errcode = 'no_data_found';
  end if;
  update public.external_integrations i
     set access_token_encrypted = p_token_encrypted, access_token = null, failing_since = null, failing_reason = null
   where i.distributor_id = p_distributor_id and i.id = p_integration_id;
  perform pg_notify('orderflow_replies', p_distributor_id::text);
  return v_was_failing;
end
$$;
comment on function public.set_integration_token_v1 is 'Store a new (encrypted) access token; a failing integration resumes';

revoke execute on function public.claim_replies_v1, public.finish_replies_v1,
  public.record_message_status_v2, public.set_integration_token_v1 from public, anon, authenticated;
grant execute on function public.claim_replies_v1, public.finish_replies_v1,
  public.record_message_status_v2, public.set_integration_token_v1 to service_role;
revoke execute on function private.reply_status_rank, private.queue_reply from public;
grant execute on function private.reply_status_rank to service_role;
