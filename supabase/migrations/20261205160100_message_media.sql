-- Media of inbound messages (voice notes, photos, documents), fetched from the channel's API by
-- the worker, size-capped and type-checked, and kept encrypted for as long as the message body:
-- when retention clears a message's body, a trigger clears its media and transcript too.
--
-- content_encrypted: the bytes (base64) sealed with the distributor's data key by service code,
-- column "message_media.content" (worker/core/encryption.py); staff read ciphertext only. A voice
-- note's transcript is message text like the body (and, like it, read by staff and cleared by
-- retention); only its redacted form ever reaches an analysis prompt.

create table public.message_media (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid not null,
  media_id text not null,
  kind text not null,
  mime_type text,
  size_bytes integer check (size_bytes >= 0),
  sha256 text,
  content_encrypted bytea,
  transcript text,
  state text not null default 'fetched' check (state in ('fetched', 'refused', 'failed', 'cleared')),
  error text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, message_id, media_id),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete cascade
);
create index message_media_message_idx on public.message_media (distributor_id, message_id);
comment on table public.message_media is 'Media of inbound messages, kept encrypted as long as the message body';
comment on column public.message_media.media_id is '@external the channel''s media id (WhatsApp: GET /<version>/<media_id>)';
comment on column public.message_media.content_encrypted is
  'The media bytes (base64), AES-256-GCM under the distributor''s data key; cleared with the message body';
comment on column public.message_media.transcript is 'A voice note''s transcript (message text, like the body)';
comment on column public.message_media.state is
  'fetched: kept; refused: too large or not an accepted type (error says which); failed: could not be fetched; cleared: retention';

select private.enable_tenant_rls('public.message_media', 'viewer');

-- Retention clears the media with the body: apply_retention_v1 sets body and body_redacted to null.
create function private.clear_message_media()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  update public.message_media x
     set content_encrypted = null, transcript = null, state = 'cleared'
   where x.distributor_id = new.distributor_id and x.message_id = new.id and x.state <> 'cleared';
  return null;
end
$$;
comment on function private.clear_message_media is 'Clear a message''s media and transcript when its body is cleared';

create trigger clear_message_media after update of body, body_redacted on public.messages
  for each row when (new.body is null and new.body_redacted is null
                     and (old.body is not null or old.body_redacted is not null))
  execute function private.clear_message_media();

-- Audio transcription prices (per million tokens; OpenAI list prices at the time of writing).
insert into public.ai_model_prices (provider, model, effective_from, input_per_mtok_micro_usd,
                                    cached_input_per_mtok_micro_usd, output_per_mtok_micro_usd)
values ('openai', 'gpt-4o-mini-transcribe', date '2025-03-20', 3000000, 0, 5000000),
       ('openai', 'gpt-4o-transcribe', date '2025-03-20', 6000000, 0, 10000000)
on conflict (provider, model, effective_from) do nothing;

revoke execute on function private.clear_message_media from public;
grant execute on function private.clear_message_media to service_role;
