-- Tenancy and accounts: distributors (the tenants), user profiles (1:1 with auth.users),
-- sessions, invitations and per-distributor role permissions; the caller's distributor and role.

create table public.distributors (
  id uuid primary key default gen_random_uuid(),
  slug text not null unique check (slug ~ '^[a-z0-9][a-z0-9-]{1,62}$'),
  name text not null,
  country text,
  locale text not null default 'es-MX',
  currency text not null default 'USD',
  timezone text not null default 'UTC',
  status text not null default 'active' check (status in ('active', 'suspended')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
comment on table public.distributors is 'global: the tenants; every tenant table references this one';
comment on column public.distributors.timezone is 'IANA zone; delivery words like "mañana" resolve in it';

create table public.user_profiles (
  id uuid primary key references auth.users (id) on delete cascade,
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  email text not null,
  full_name text,
  role public.user_role not null default 'viewer',
  active boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id)
);
comment on table public.user_profiles is 'One platform user: which distributor they belong to and their role there';

create function public.get_current_distributor_id() returns uuid
language sql stable security definer
set search_path = ''
as $$
  select p.distributor_id from public.user_profiles p where p.id = (select auth.uid()) and p.active
$$;
comment on function public.get_current_distributor_id() is 'The distributor of the signed-in user (null for anon or unknown users); RLS compares distributor_id with it';

create function private.current_role_rank() returns integer
language sql stable security definer
set search_path = ''
as $$
  select coalesce((
    select private.role_rank(p.role) from public.user_profiles p where p.id = (select auth.uid()) and p.active
  ), 0)
$$;

grant execute on function public.get_current_distributor_id() to authenticated, service_role;
grant execute on function private.current_role_rank() to authenticated, service_role;
grant execute on function private.role_rank(public.user_role) to authenticated, service_role;

create table public.user_sessions (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  user_id uuid not null,
  started_at timestamptz not null default now(),
  last_seen_at timestamptz,
  ended_at timestamptz,
  ip_address inet,
  user_agent text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, user_id) references public.user_profiles (distributor_id, id) on delete cascade
);
create index user_sessions_user_idx on public.user_sessions (distributor_id, user_id);
comment on table public.user_sessions is 'Sign-ins the platform learns about';

create table public.user_invitations (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  email text not null check (email = lower(email)),
  role public.user_role not null default 'staff',
  invited_by uuid,
  expires_at timestamptz not null default now() + interval '7 days',
  used_at timestamptz,
  used_by uuid references auth.users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  foreign key (distributor_id, invited_by) references public.user_profiles (distributor_id, id) on delete set null (invited_by)
);
create index user_invitations_invited_by_idx on public.user_invitations (distributor_id, invited_by);
create index user_invitations_used_by_idx on public.user_invitations (used_by);
create unique index user_invitations_pending_email on public.user_invitations (distributor_id, email) where used_at is null;
comment on table public.user_invitations is 'An admin invites an e-mail to the distributor with a role; sign-up with that e-mail creates the profile';

create table public.role_permissions (
  id uuid primary key default gen_random_uuid(),
  distributor_id uuid not null references public.distributors (id) on delete cascade,
  role public.user_role not null,
  permission text not null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  unique (distributor_id, id),
  unique (distributor_id, role, permission)
);
comment on table public.role_permissions is 'Extra permissions a distributor grants to a role (feature flags for the app)';

alter table public.distributors enable row level security;
create trigger set_updated_at before update on public.distributors for each row execute function private.set_updated_at();
create policy "members read their own distributor" on public.distributors
  for select to authenticated using (id = (select public.get_current_distributor_id()));
create policy "admins change their own distributor" on public.distributors
  for update to authenticated
  using (id = (select public.get_current_distributor_id()) and (select private.current_role_rank()) >= 4)
  with check (id = (select public.get_current_distributor_id()));

select private.enable_tenant_rls('public.user_profiles', 'viewer', 'admin', 'admin');
select private.enable_tenant_rls('public.user_sessions', 'admin');
select private.enable_tenant_rls('public.user_invitations', 'admin', 'admin', 'admin');
select private.enable_tenant_rls('public.role_permissions', 'viewer', 'admin', 'admin');
