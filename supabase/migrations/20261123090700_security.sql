-- Security: access audit, PII rules and findings, retention policies, wrapped data keys,
-- and the security event log.

create table public.data_access_audit (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  actor_user_id uuid,
  actor_role text not null,
  table_name text not null,
  row_id uuid,
  action text not null check (action in ('insert', 'update', 'delete', 'select')),
  old_values jsonb,
  new_values jsonb,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  unique (distributor_id, id)
);
create index data_access_audit_time_idx on public.data_access_audit (distributor_id, occurred_at desc);
comment on column public.data_access_audit.actor_user_id is '@external auth user id at the time (kept after the user is deleted)';
comment on column public.data_access_audit.row_id is '@external id of the audited row in table_name (any table)';

create table public.pii_detection_rules (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  category text not null check (category in ('PERSON', 'PHONE_NUMBER', 'EMAIL_ADDRESS', 'ADDRESS', 'NATIONAL_ID', 'CREDIT_CARD')),
  enabled boolean not null default true,
  score_threshold numeric(3, 2) not null default 0.5 check (score_threshold between 0 and 1),
  action text not null default 'redact' check (action in ('redact', 'flag')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, category)
);

create table public.pii_detection_results (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  message_id uuid not null,
  rule_id uuid,
  category text not null,
  entity_type text not null,
  start_offset integer not null check (start_offset >= 0),
  end_offset integer not null,
  score numeric(4, 3) not null,
  recognizer text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  check (end_offset > start_offset),
  foreign key (distributor_id, message_id) references public.messages (distributor_id, id) on delete cascade,
  foreign key (distributor_id, rule_id) references public.pii_detection_rules (distributor_id, id) on delete set null (rule_id)
);
create index pii_detection_results_message_idx on public.pii_detection_results (distributor_id, message_id);
create index pii_detection_results_rule_idx on public.pii_detection_results (distributor_id, rule_id);
comment on table public.pii_detection_results is 'Where PII was found in a message (span and type, never the text itself)';

create table public.data_retention_policies (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  data_kind text not null check (data_kind in ('message_bodies', 'pii_findings', 'ai_responses', 'webhook_deliveries', 'orders')),
  retain_days integer check (retain_days > 0),
  action text not null check (action in ('anonymise', 'delete', 'keep')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, data_kind)
);

create table public.encryption_keys (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  key_version integer not null check (key_version > 0),
  wrapped_key bytea not null,
  algorithm text not null default 'AES-256-GCM',
  active boolean not null default true,
  rotated_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, key_version)
);
create unique index encryption_keys_active_key on public.encryption_keys (distributor_id) where active;
comment on column public.encryption_keys.wrapped_key is 'secret: the data key wrapped by the master key from the environment';

create table public.security_audit_log (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  event_type text not null,
  severity text not null default 'info' check (severity in ('info', 'warning', 'critical')),
  actor text not null,
  details jsonb not null default '{}'::jsonb,
  occurred_at timestamptz not null default now(),
  created_at timestamptz not null default now(),
  unique (distributor_id, id)
);
create index security_audit_log_time_idx on public.security_audit_log (distributor_id, occurred_at desc);

select private.enable_tenant_rls('public.data_access_audit', 'admin');
select private.enable_tenant_rls('public.pii_detection_rules', 'viewer', 'admin', 'admin');
select private.enable_tenant_rls('public.pii_detection_results', 'viewer');
select private.enable_tenant_rls('public.data_retention_policies', 'viewer', 'admin', 'admin');
select private.enable_tenant_rls('public.encryption_keys', 'admin');
select private.enable_tenant_rls('public.security_audit_log', 'admin');

revoke select on public.encryption_keys from authenticated, anon;
grant select (id, distributor_id, key_version, algorithm, active, rotated_at, created_at, updated_at)
  on public.encryption_keys to authenticated;
